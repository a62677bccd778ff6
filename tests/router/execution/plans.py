"""Hand-written plans for the shop supergraph (what a correct planner produces)."""

from __future__ import annotations

from router.planning.query_plan import (
    ConditionNode,
    FetchNode,
    FieldSelection,
    FlattenNode,
    InlineFragmentSelection,
    ParallelNode,
    QueryPlan,
    SequenceNode,
)

TYPENAME = FieldSelection("__typename")


def key(type_name: str, *fields: str) -> tuple[InlineFragmentSelection, ...]:
    return (InlineFragmentSelection(type_name, (TYPENAME, *(FieldSelection(f) for f in fields))),)


def entities(
    service: str, type_name: str, selection: str, *requires: str, variables: tuple[str, ...] = ()
) -> FetchNode:
    var_defs = "".join(f", ${v}: Boolean!" for v in variables)
    return FetchNode(
        service_name=service,
        operation=(
            f"query($representations: [_Any!]!{var_defs}) {{ _entities(representations: $representations) "
            f"{{ ... on {type_name} {{ {selection} }} }} }}"
        ),
        variable_usages=variables,
        requires=key(type_name, *requires),
    )


REVIEWS_WITH_AUTHORS = "{ latestReviews { id body author { id name username } } }"
REVIEWS_WITH_AUTHORS_PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("reviews", "{ latestReviews { id body author { __typename id username } } }"),
            FlattenNode(("latestReviews", "@", "author"), entities("accounts", "User", "name", "id")),
        )
    )
)

AUTHOR_BIRTHDAYS = "{ latestReviews { id author { birthday } } }"
AUTHOR_BIRTHDAYS_PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("reviews", "{ latestReviews { id author { __typename id } } }"),
            FlattenNode(("latestReviews", "@", "author"), entities("accounts", "User", "birthday", "id")),
        )
    )
)

TOP_PRODUCTS_SHIPPING = "{ topProducts { upc name shippingEstimate inStock } }"
TOP_PRODUCTS_SHIPPING_PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("products", "{ topProducts { __typename upc name price weight } }"),
            FlattenNode(
                ("topProducts", "@"),
                entities("inventory", "Product", "shippingEstimate inStock", "upc", "price", "weight"),
            ),
        )
    )
)

THINGS = "{ things { __typename name ... on Book { pages stock } ... on Gadget { stock } } }"
THINGS_PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode(
                "products",
                "{ things { __typename name ... on Book { pages __typename id } ... on Gadget { __typename id } } }",
            ),
            ParallelNode(
                (
                    FlattenNode(("things", "@", "... on Book"), entities("inventory", "Book", "stock", "id")),
                    FlattenNode(("things", "@", "... on Gadget"), entities("inventory", "Gadget", "stock", "id")),
                )
            ),
        )
    )
)

PRODUCT_BY_UPC = """
query Product($upc: String!, $withName: Boolean!, $skipPrice: Boolean = false) {
  p: product(upc: $upc) { ...Basic  price @skip(if: $skipPrice) label: name @include(if: $withName) }
  __typename
}
fragment Basic on Product { upc n: upc }
"""
PRODUCT_BY_UPC_PLAN = QueryPlan(
    FetchNode(
        "products",
        "query Product__products__0($upc: String!) { p: product(upc: $upc) { upc n: upc price label: name } }",
        operation_name="Product__products__0",
        variable_usages=("upc",),
    )
)

PRODUCT_STATUS = '{ product(upc: "4") { upc status } }'
PRODUCT_STATUS_PLAN = QueryPlan(FetchNode("products", '{ product(upc: "4") { upc status } }'))

ME = "{ me { name } }"
ME_PLAN = QueryPlan(FetchNode("accounts", "{ me { name } }"))

MIXED = "{ me { name } topProducts(first: 1) { name } }"
MIXED_PLAN = QueryPlan(
    ParallelNode(
        (
            FetchNode("accounts", "{ me { name } }"),
            FetchNode("products", "{ topProducts(first: 1) { name } }"),
        )
    )
)

CONDITIONAL_STOCK = "query($s: Boolean!) { topProducts(first: 2) { name inStock @include(if: $s) } }"
CONDITIONAL_STOCK_PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode("products", "{ topProducts(first: 2) { name __typename upc } }"),
            ConditionNode(
                "s",
                FlattenNode(("topProducts", "@"), entities("inventory", "Product", "inStock", "upc")),
                None,
            ),
        )
    )
)

MUTATIONS = """
mutation {
  createProduct(upc: "10", name: "Lamp", price: 50) { upc name }
  addReview(upc: "10", body: "Bright") { body product { name } }
  setInStock(upc: "10", inStock: true) { name inStock }
}
"""
MUTATIONS_PLAN = QueryPlan(
    SequenceNode(
        (
            FetchNode(
                "products",
                'mutation { createProduct(upc: "10", name: "Lamp", price: 50) { upc name } }',
                operation_kind="mutation",
            ),
            SequenceNode(
                (
                    FetchNode(
                        "reviews",
                        'mutation { addReview(upc: "10", body: "Bright") { body product { __typename upc } } }',
                        operation_kind="mutation",
                    ),
                    FlattenNode(("addReview", "product"), entities("products", "Product", "name", "upc")),
                )
            ),
            SequenceNode(
                (
                    FetchNode(
                        "inventory",
                        'mutation { setInStock(upc: "10", inStock: true) { __typename upc inStock } }',
                        operation_kind="mutation",
                    ),
                    FlattenNode(("setInStock",), entities("products", "Product", "name", "upc")),
                )
            ),
        )
    )
)
