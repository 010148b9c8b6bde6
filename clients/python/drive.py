"""Drives one order's whole life through the Python client generated from the service's
OpenAPI document, asserting each status and the type each body parses to.

Run by .ci/python-client.sh: ``python drive.py BASE_URL``, with the generated package
``orders_api_client`` importable. Every step that fails raises, so the exit status is the
verdict.
"""

import sys
from http import HTTPStatus

from orders_api_client import Client
from orders_api_client.api.orders import (
    cancel_order,
    create_order,
    delete_order,
    get_order,
    list_orders,
    pay_order,
    update_order,
)
from orders_api_client.models import (
    CreateOrderSchema,
    ErrorBody,
    GetOrderSchema,
    OrderItemSchema,
    OrderListSchema,
    SizeSchema,
    StatusSchema,
    ValidationErrorBody,
)


def expect(step, response, status, parsed_type):
    """The parsed body of ``response``, after checking its status and type."""
    assert response.status_code == status, f"{step}: {response.status_code} {response.content!r}"
    if parsed_type is None:
        assert response.parsed is None, f"{step}: parsed {response.parsed!r}"
    else:
        assert isinstance(response.parsed, parsed_type), f"{step}: parsed {response.parsed!r}"
    print(f"ok  {step}: {int(status)} {type(response.parsed).__name__}")
    return response.parsed


def items(product, size, quantity):
    return CreateOrderSchema(order=[OrderItemSchema(product=product, size=size, quantity=quantity)])


def main(base_url):
    # Undocumented statuses raise: the document must list everything the service answers.
    with Client(base_url=base_url, raise_on_unexpected_status=True, timeout=30.0) as client:
        placed = expect(
            "create",
            create_order.sync_detailed(client=client, body=items("cappuccino", SizeSchema.MEDIUM, 2)),
            HTTPStatus.CREATED,
            GetOrderSchema,
        )
        assert placed.status == StatusSchema.CREATED
        order_id = placed.id

        got = expect("get", get_order.sync_detailed(order_id, client=client), HTTPStatus.OK, GetOrderSchema)
        assert (got.id, got.order[0].product, got.order[0].quantity) == (order_id, "cappuccino", 2)

        updated = expect(
            "update",
            update_order.sync_detailed(order_id, client=client, body=items("latte", SizeSchema.BIG, 1)),
            HTTPStatus.OK,
            GetOrderSchema,
        )
        assert [(i.product, i.size, i.quantity) for i in updated.order] == [("latte", SizeSchema.BIG, 1)]

        invalid = expect(
            "update with quantity 0",
            update_order.sync_detailed(order_id, client=client, body=items("latte", SizeSchema.BIG, 0)),
            HTTPStatus.UNPROCESSABLE_ENTITY,
            ValidationErrorBody,
        )
        assert invalid.detail[0].loc == ["body", "order", 0, "quantity"], invalid.detail[0].loc

        paid = expect("pay", pay_order.sync_detailed(order_id, client=client), HTTPStatus.OK, GetOrderSchema)
        assert paid.status == StatusSchema.PAID

        conflict = expect(
            "pay again", pay_order.sync_detailed(order_id, client=client), HTTPStatus.CONFLICT, ErrorBody
        )
        assert isinstance(conflict.detail, str) and conflict.detail, conflict

        page = expect(
            "list", list_orders.sync_detailed(client=client, limit=100), HTTPStatus.OK, OrderListSchema
        )
        assert order_id in [order.id for order in page.orders]

        cancelled = expect(
            "cancel", cancel_order.sync_detailed(order_id, client=client), HTTPStatus.OK, GetOrderSchema
        )
        assert cancelled.status == StatusSchema.CANCELLED

        page = expect(
            "list cancelled",
            list_orders.sync_detailed(client=client, cancelled=True),
            HTTPStatus.OK,
            OrderListSchema,
        )
        assert order_id in [order.id for order in page.orders]

        expect("delete", delete_order.sync_detailed(order_id, client=client), HTTPStatus.NO_CONTENT, None)

        gone = expect("get deleted", get_order.sync_detailed(order_id, client=client), HTTPStatus.NOT_FOUND, ErrorBody)
        assert str(order_id) in gone.detail, gone


if __name__ == "__main__":
    main(sys.argv[1])
