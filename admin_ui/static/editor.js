// The editor's line numbers: kept in step with the text and its scrolling; an error's link
// selects its line. Error marks stay until the next validation (the server computes them).
(function () {
  const source = document.getElementById("source");
  const gutter = document.getElementById("gutter");
  if (!source || !gutter) return;
  function renumber() {
    const wanted = source.value.split("\n").length;
    const have = gutter.querySelectorAll(".ln").length;
    for (let n = have + 1; n <= wanted; n++) {
      const span = document.createElement("span");
      span.className = "ln"; span.dataset.line = n; span.textContent = n;
      gutter.appendChild(span); gutter.appendChild(document.createTextNode("\n"));
    }
    for (let n = have; n > wanted; n--) {
      const last = gutter.querySelector('.ln[data-line="' + n + '"]');
      if (last) { last.nextSibling && last.nextSibling.remove(); last.remove(); }
    }
  }
  function goTo(line) {
    const lines = source.value.split("\n");
    let start = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) start += lines[i].length + 1;
    source.focus();
    source.setSelectionRange(start, start + (lines[line - 1] || "").length);
    source.scrollTop = Math.max(0, (line - 5) * parseFloat(getComputedStyle(source).lineHeight));
  }
  source.addEventListener("input", renumber);
  source.addEventListener("scroll", () => { gutter.scrollTop = source.scrollTop; });
  document.querySelectorAll("a.goto").forEach((a) => a.addEventListener("click", (event) => {
    event.preventDefault();
    if (a.dataset.line) goTo(parseInt(a.dataset.line, 10));
  }));
})();
