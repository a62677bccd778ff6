"""The innermost handler: run the decoded request on the current gateway."""

from __future__ import annotations

from router.http.context import Handler, RouterRequest, RouterResponse

from .reload import GatewayPool

__all__ = ["execute_handler"]


def execute_handler(pool: GatewayPool) -> Handler:
    async def handle(request: RouterRequest) -> RouterResponse:
        assert request.graphql is not None, "execute runs after decoding"
        params = request.graphql
        async with pool.lease() as gateway:
            result = await gateway.execute(
                params.query,
                params.variables,
                params.operation_name,
                subgraph_headers=request.subgraph_headers,
                allow_mutations=request.allow_mutations,
                include_plan=request.include_plan,
                claims=request.claims,
            )
        headers = {"allow": "POST"} if result.status == "method_not_allowed" else {}
        return RouterResponse(body=result.body, outcome=result.status, headers=headers)

    return handle
