"""Create, update and read channels. Validators collect every problem before answering."""
from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlmodel import Session, select

from runtime.channels.errors import ChannelErrorCode as Code
from runtime.channels.models import CaptureMode, Channel, CommerceMode
from runtime.clock import utcnow
from runtime.errors import BusinessError, BusinessErrors
from runtime.money import Money

#: Lower-case letters and digits in words joined by single hyphens: ``b2b-eu``, ``web``.
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX = 64
NAME_MAX = 200

#: Fields :func:`update_channel` accepts (the slug is the channel's address and never changes).
UPDATABLE = ("name", "commerce_mode", "default_currency", "currencies", "capture_mode", "is_active", "is_default",
             "time_zone")


def currency_problem(code: object, field: str) -> BusinessError | None:
    """An ``INVALID_CURRENCY`` error unless ``code`` is a three-letter ISO 4217 code (Money's rule)."""
    try:
        Money.zero(code)  # type: ignore[arg-type]
    except ValueError:
        return BusinessError(Code.INVALID_CURRENCY, f"{field}: expected a three-letter ISO 4217 code like 'EUR', got {code!r}",
                             field=field)
    return None


def time_zone_problem(value: object) -> BusinessError | None:
    """An ``INVALID_TIME_ZONE`` error unless ``value`` names an IANA time zone (``Europe/Vienna``):
    the channel's days (the 30-day cap window) start at its local midnight."""
    try:
        if isinstance(value, str) and value.strip() == value and value:
            ZoneInfo(value)
            return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    return BusinessError(Code.INVALID_TIME_ZONE, f"timeZone: expected an IANA time zone like 'Europe/Vienna' or "
                         f"'UTC', got {value!r}", field="timeZone")


def _enum_problem(value: object, enum: type, code: Code, field: str) -> BusinessError | None:
    allowed = [m.value for m in enum]
    if (value.value if isinstance(value, enum) else value) in allowed:
        return None
    return BusinessError(code, f"{field}: expected one of {', '.join(allowed)}, got {value!r}", field=field)


def validate(values: dict[str, Any]) -> list[BusinessError]:
    """Every problem of a channel's complete field values (``slug`` included)."""
    problems: list[BusinessError | None] = []
    slug = values["slug"]
    if not isinstance(slug, str) or len(slug) > SLUG_MAX or not SLUG.match(slug):
        problems.append(BusinessError(
            Code.INVALID_SLUG,
            f"slug: {slug!r} is not a slug: use lower-case letters, digits and single hyphens, at most {SLUG_MAX} characters",
            field="slug"))
    name = values["name"]
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX:
        problems.append(BusinessError(Code.INVALID_NAME, f"name: expected 1 to {NAME_MAX} characters", field="name"))
    problems.append(_enum_problem(values["commerce_mode"], CommerceMode, Code.INVALID_COMMERCE_MODE, "commerceMode"))
    problems.append(_enum_problem(values["capture_mode"], CaptureMode, Code.INVALID_CAPTURE_MODE, "captureMode"))
    default = values["default_currency"]
    default_problem = currency_problem(default, "defaultCurrency")
    problems.append(default_problem)
    currencies = values["currencies"]
    if not currencies:
        problems.append(BusinessError(Code.INVALID_CURRENCY, "currencies: list at least one currency", field="currencies"))
    else:
        problems.extend(currency_problem(c, f"currencies.{i}") for i, c in enumerate(currencies))
        if default_problem is None and default not in currencies:
            problems.append(BusinessError(
                Code.UNSUPPORTED_CURRENCY,
                f"defaultCurrency: {default} is not among the supported currencies ({', '.join(map(str, currencies))})",
                field="defaultCurrency"))
    problems.append(time_zone_problem(values["time_zone"]))
    if values["is_default"] and not values["is_active"]:
        problems.append(BusinessError(Code.DEFAULT_CHANNEL_INACTIVE,
                                      "isActive: the default channel must be active", field="isActive"))
    return [p for p in problems if p is not None]


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Enum members as their values; the currency list without repeats, in the order given."""
    out = {k: (v.value if isinstance(v, (CommerceMode, CaptureMode)) else v) for k, v in values.items()}
    out["currencies"] = list(dict.fromkeys(out["currencies"] or []))
    return out


def _save(session: Session, channel: Channel, values: dict[str, Any]) -> Channel:
    problems = validate(values)
    if problems:
        raise BusinessErrors(problems)
    if values["is_default"]:
        # Clear the old default first: the partial unique index allows one default at a time.
        for other in session.exec(select(Channel).where(Channel.is_default, Channel.slug != values["slug"])):
            other.is_default = False
            session.add(other)
        session.flush()
    for key, value in values.items():
        setattr(channel, key, value)
    channel.updated_at = utcnow()
    if channel.id is None:
        channel.created_at = channel.updated_at
    session.add(channel)
    session.flush()
    from runtime.channels.context import forget_channels  # context imports this module

    forget_channels(session)
    return channel


def create_channel(session: Session, *, slug: str, name: str, commerce_mode: str | CommerceMode,
                   default_currency: str, currencies: list[str] | None = None,
                   capture_mode: str | CaptureMode = CaptureMode.AUTHORIZE_AND_CAPTURE,
                   is_active: bool = True, is_default: bool = False, time_zone: str = "UTC") -> Channel:
    """A new channel; ``currencies`` defaults to the default currency alone."""
    values = _plain({
        "slug": slug, "name": name, "commerce_mode": commerce_mode, "default_currency": default_currency,
        "currencies": [default_currency] if currencies is None else currencies, "capture_mode": capture_mode,
        "is_active": is_active, "is_default": is_default, "time_zone": time_zone,
    })
    if isinstance(slug, str) and session.exec(select(Channel.id).where(Channel.slug == slug)).first() is not None:
        raise BusinessError(Code.DUPLICATE_SLUG, f"slug: a channel {slug!r} already exists", field="slug")
    return _save(session, Channel(), values)


def update_channel(session: Session, slug: str, **changes: Any) -> Channel:
    """Change the given fields (``None`` leaves a field as it is) and validate the result whole."""
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise TypeError(f"update_channel: unknown fields {unknown}")
    channel = get_channel(session, slug, active_only=False)
    values = {key: getattr(channel, key) for key in ("slug", *UPDATABLE)}
    values.update({key: value for key, value in changes.items() if value is not None})
    return _save(session, channel, _plain(values))


def get_channel(session: Session, slug: str, *, active_only: bool = True) -> Channel:
    statement = select(Channel).where(Channel.slug == slug)
    channel = session.exec(statement.where(Channel.is_active) if active_only else statement).first()
    if channel is None:
        raise BusinessError(Code.NOT_FOUND, f"slug: no channel {slug!r}", field="slug")
    return channel


def set_channel_policy(session: Session, slug: str, **values: Any) -> Channel:
    """Set another domain's per-channel rule (``inventory_hold_mode``, ``buyers_modify_orders``,
    ``buyers_request_refunds``) on channel ``slug``, active or not; this process's channel cache
    forgets the channel once it commits. The caller checks ``channels.manage`` and the values."""
    from runtime.channels.context import forget_channels  # context reads this module

    channel = session.exec(select(Channel).where(Channel.slug == slug)).first()
    if channel is None:
        raise BusinessError(Code.NOT_FOUND, f"channelSlug: no channel {slug!r}", field="channelSlug")
    for name, value in values.items():
        setattr(channel, name, value)
    channel.updated_at = utcnow()
    session.add(channel)
    session.flush()
    forget_channels(session)
    return channel


def list_channels(session: Session, *, include_inactive: bool = False) -> list[Channel]:
    statement = select(Channel).order_by(Channel.slug)
    return list(session.exec(statement if include_inactive else statement.where(Channel.is_active)))


def default_channel(session: Session) -> Channel | None:
    return session.exec(select(Channel).where(Channel.is_default, Channel.is_active)).first()


def require_currency(channel: Channel, currency: str, field: str = "currency") -> None:
    """Refuse a currency the channel does not sell in (carts, price lists, orders)."""
    if currency not in channel.currencies:
        raise BusinessError(
            Code.UNSUPPORTED_CURRENCY,
            f"{field}: channel {channel.slug!r} does not sell in {currency} (supported: {', '.join(channel.currencies)})",
            field=field)
