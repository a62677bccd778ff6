"""Pass 1a: pick the operation to run and index the fragment definitions."""

from __future__ import annotations

from graphql import DocumentNode, FragmentDefinitionNode, OperationDefinitionNode

from router.errors import ValidationFailed

__all__ = ["select_operation"]


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> tuple[OperationDefinitionNode, dict[str, FragmentDefinitionNode]]:
    operations: list[OperationDefinitionNode] = []
    fragments: dict[str, FragmentDefinitionNode] = {}
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode):
            operations.append(d)
        elif isinstance(d, FragmentDefinitionNode):
            fragments[d.name.value] = d
    if operation_name is None:
        if len(operations) != 1:
            raise ValidationFailed(
                "Must provide operation name if query contains multiple operations."
                if operations
                else "Must provide an operation."
            )
        return operations[0], fragments
    for op in operations:
        if op.name is not None and op.name.value == operation_name:
            return op, fragments
    raise ValidationFailed(f"Unknown operation named '{operation_name}'.")
