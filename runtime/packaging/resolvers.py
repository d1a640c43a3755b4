"""GraphQL of packages and ladders: staff mutations, one ``db.run`` each."""
from __future__ import annotations

from ariadne import MutationType, ObjectType

from runtime.errors import BusinessError
from runtime.graphql.context import context_of, payload
from runtime.packaging import service
from runtime.packaging.errors import PackagingErrorCode as Code

MANAGE = "catalog.manage"
mutation = MutationType()
ladder_type = ObjectType("SetProductPackagesPayload")


@mutation.field("definePackage")
@payload
def resolve_define_package(_, info, slug: str, name: str):
    ctx = context_of(info)
    ctx.require(MANAGE)
    package = ctx.db.run(lambda session: service.define_package(session, slug, name))
    return {"package": package}


@mutation.field("setProductPackages")
@payload
def resolve_set_product_packages(_, info, product_id: str, packages: list):
    ctx = context_of(info)
    ctx.require(MANAGE)
    text = str(product_id).strip()
    if not text.isdigit():
        raise BusinessError(Code.NOT_FOUND, f"productId: no product {product_id!r}", field="productId")
    ladder = ctx.db.run(lambda session: service.set_ladder(session, int(text), packages))
    return {"packages": [{"package": slug, "multiplier": n} for slug, n in sorted(ladder.items(), key=lambda i: i[1])]}


@ladder_type.field("packages")
def resolve_packages(result: dict, _info):
    return result.get("packages") or []


bindables = [mutation, ladder_type]
