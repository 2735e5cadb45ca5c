"""The gRPC order entry and queries of a real ``hft serve``: keys, orders, ownership, errors the same as REST's.

Each scenario runs a ``grpc.aio`` client against the server's gRPC port; REST calls to the same server set
scenes up and give the answers gRPC must match.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import grpc
import httpx
import pytest
from tests.integration.gateways.grpc.client import Trader, error_code, limit, refused, trading
from tests.integration.gateways.grpc.conftest import GRPC_ON

from hft.gateways.grpc.v1 import trading_pb2 as pb
from hft.testing.server import ServerProcess

BUY, SELL = pb.SIDE_BUY, pb.SIDE_SELL


def _sequence(server: ServerProcess) -> int:
    sequence: int = httpx.get(f"{server.url}/health", timeout=10).json()["components"]["engine"]["sequence"]
    return sequence


# -- authentication ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("metadata", [(), (("x-api-key", "hft_" + "x" * 43),), (("x-api-key", ""),)])
def test_missing_or_wrong_key_is_unauthenticated_for_calls_and_streams(
    server: ServerProcess, metadata: tuple[tuple[str, str], ...]
) -> None:
    async def scenario() -> list[grpc.aio.AioRpcError]:
        async with trading(server) as stub:
            unary = await refused(stub.ListOrders(pb.ListOrdersRequest(), metadata=metadata))
            submit = await refused(stub.SubmitOrder(limit("AAPL", BUY, "1", "1.00"), metadata=metadata))
            stream = stub.StreamExecutions(pb.StreamExecutionsRequest(), metadata=metadata)
            streamed = await refused(stream.read())
            return [unary, submit, streamed]

    before = _sequence(server)
    errors = asyncio.run(scenario())

    for error in errors:
        assert error.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error_code(error) == "UNAUTHORIZED"
        assert error.details() == "missing or invalid X-API-Key header"
    assert _sequence(server) == before


# -- orders ---------------------------------------------------------------------------------------------------------


def test_submit_get_list_amend_cancel_round_trip(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]

    async def scenario() -> dict[str, Any]:
        async with trading(server) as stub:
            key = alice.metadata
            placed = await stub.SubmitOrder(limit("MSFT", BUY, "10", "20.50", client_order_id="g-1"), metadata=key)
            by_id = await stub.GetOrder(pb.GetOrderRequest(order_id=placed.order_id), metadata=key)
            by_client_id = await stub.GetOrder(pb.GetOrderRequest(client_order_id="g-1"), metadata=key)
            amended = await stub.AmendOrder(
                pb.AmendOrderRequest(order_id=placed.order_id, price="20.55", quantity="12"), metadata=key
            )
            listed = await stub.ListOrders(pb.ListOrdersRequest(open_only=True), metadata=key)
            canceled = await stub.CancelOrder(pb.CancelOrderRequest(order_id=placed.order_id), metadata=key)
            again = await refused(stub.CancelOrder(pb.CancelOrderRequest(order_id=placed.order_id), metadata=key))
            return {
                "placed": placed,
                "by_id": by_id,
                "by_client_id": by_client_id,
                "amended": amended,
                "listed": listed,
                "canceled": canceled,
                "again": again,
            }

    answers = asyncio.run(scenario())
    placed = answers["placed"]
    rest = alice.http.get(f"/api/orders/{placed.order_id}").json()

    assert placed.status == pb.ORDER_STATUS_NEW
    assert (placed.symbol, placed.side, placed.order_type, placed.time_in_force) == (
        "MSFT",
        BUY,
        pb.ORDER_TYPE_LIMIT,
        pb.TIME_IN_FORCE_GTC,
    )
    assert (placed.price, placed.quantity, placed.leaves_quantity, placed.filled_quantity) == ("20.50", "10", "10", "0")
    assert not placed.HasField("avg_fill_price")
    assert placed.client_order_id == "g-1"
    assert answers["by_id"] == placed
    assert answers["by_client_id"] == placed
    assert (answers["amended"].price, answers["amended"].quantity) == ("20.55", "12")
    assert [order.order_id for order in answers["listed"].orders] == [placed.order_id]
    assert not answers["listed"].HasField("next_before")
    canceled = answers["canceled"]
    assert canceled.status == pb.ORDER_STATUS_CANCELED
    assert canceled.cancel_reason == "USER"
    assert canceled.updated_at_ns >= placed.created_at_ns
    assert rest["status"] == "CANCELED"
    assert rest["price"] == canceled.price
    assert answers["again"].code() == grpc.StatusCode.FAILED_PRECONDITION
    assert error_code(answers["again"]) == "ORDER_NOT_WORKING"


def test_crossing_order_comes_back_filled_and_shows_in_executions_and_positions(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob = traders[0], traders[1]
    assert alice.rest_order(symbol="ETH-USD", side="SELL", quantity="0.5", price="2000.10").status_code == 201

    async def scenario() -> tuple[pb.Order, pb.ListExecutionsResponse, pb.ListPositionsResponse, pb.Account]:
        async with trading(server) as stub:
            order = await stub.SubmitOrder(limit("ETH-USD", BUY, "0.2", "2000.10"), metadata=bob.metadata)
            fills = await stub.ListExecutions(pb.ListExecutionsRequest(), metadata=bob.metadata)
            positions = await stub.ListPositions(pb.ListPositionsRequest(), metadata=bob.metadata)
            account = await stub.GetAccount(pb.GetAccountRequest(), metadata=bob.metadata)
            return order, fills, positions, account

    order, fills, positions, account = asyncio.run(scenario())
    rest_order = bob.http.get(f"/api/orders/{order.order_id}").json()
    rest_fill = bob.http.get("/api/executions").json()["executions"][0]
    rest_positions = bob.http.get("/api/positions").json()
    rest_account = bob.http.get("/api/account").json()

    assert order.status == pb.ORDER_STATUS_FILLED
    spelled = (order.quantity, order.filled_quantity, order.leaves_quantity, order.avg_fill_price, order.price)
    assert spelled == ("0.200", "0.200", "0.000", "2000.1", "2000.10")
    assert spelled == tuple(
        rest_order[key] for key in ("quantity", "filled_quantity", "leaves_quantity", "avg_fill_price", "price")
    )
    [fill] = fills.executions
    assert (fill.order_id, fill.side, fill.price, fill.quantity) == (order.order_id, BUY, "2000.10", "0.200")
    assert (fill.execution_id, fill.fee) == (rest_fill["execution_id"], rest_fill["fee"])
    assert fill.liquidity == pb.LIQUIDITY_TAKER
    assert [position.symbol for position in positions.positions] == ["ETH-USD"]
    assert positions.positions[0].quantity == rest_positions[0]["quantity"]
    assert positions.positions[0].avg_price == rest_positions[0]["avg_price"]
    assert account.account_id == bob.account_id
    assert account.state == pb.ACCOUNT_STATE_ACTIVE
    assert (account.cash, account.buying_power) == (rest_account["cash"], rest_account["buying_power"])


def test_risk_refusal_is_an_order_in_status_rejected_with_its_reason(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice = traders[0]

    async def scenario() -> pb.Order:
        async with trading(server) as stub:
            # A fresh account has 10,000,000 in cash: a million shares at 100 is beyond its buying power.
            order: pb.Order = await stub.SubmitOrder(limit("AAPL", BUY, "1000000", "100.00"), metadata=alice.metadata)
            return order

    order = asyncio.run(scenario())
    rest = alice.http.get(f"/api/orders/{order.order_id}").json()

    assert order.status == pb.ORDER_STATUS_REJECTED
    assert order.reject_reason == rest["reject_reason"] == "INSUFFICIENT_BUYING_POWER"
    assert order.reject_message == rest["reject_message"]
    assert rest["status"] == "REJECTED"


def test_repeated_client_order_id_is_already_exists(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]

    async def scenario() -> grpc.aio.AioRpcError:
        async with trading(server) as stub:
            await stub.SubmitOrder(limit("MSFT", BUY, "1", "10.00", client_order_id="twice"), metadata=alice.metadata)
            return await refused(
                stub.SubmitOrder(limit("MSFT", BUY, "1", "10.00", client_order_id="twice"), metadata=alice.metadata)
            )

    error = asyncio.run(scenario())

    assert error.code() == grpc.StatusCode.ALREADY_EXISTS
    assert error_code(error) == "DUPLICATE_CLIENT_ORDER_ID"


def test_list_orders_pages_newest_first_with_filters(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]

    async def scenario() -> tuple[list[list[int]], list[int], grpc.aio.AioRpcError, grpc.aio.AioRpcError]:
        async with trading(server) as stub:
            placed = [
                (await stub.SubmitOrder(limit("MSFT", BUY, "1", f"1{index}.00"), metadata=alice.metadata)).order_id
                for index in range(5)
            ]
            await stub.CancelOrder(pb.CancelOrderRequest(order_id=placed[0]), metadata=alice.metadata)
            pages: list[list[int]] = []
            before = 0
            while True:
                request = pb.ListOrdersRequest(symbol="MSFT", limit=2, before=before)
                page = await stub.ListOrders(request, metadata=alice.metadata)
                pages.append([order.order_id for order in page.orders])
                if not page.HasField("next_before"):
                    break
                before = page.next_before
            canceled = await stub.ListOrders(
                pb.ListOrdersRequest(status=pb.ORDER_STATUS_CANCELED), metadata=alice.metadata
            )
            bad_status = await refused(
                stub.ListOrders(pb.ListOrdersRequest(status=cast(Any, 99)), metadata=alice.metadata)
            )
            bad_limit = await refused(stub.ListOrders(pb.ListOrdersRequest(limit=1001), metadata=alice.metadata))
            return pages, [order.order_id for order in canceled.orders], bad_status, bad_limit

    pages, canceled, bad_status, bad_limit = asyncio.run(scenario())
    rest_ids = [
        order["order_id"] for order in alice.http.get("/api/orders", params={"symbol": "MSFT"}).json()["orders"]
    ]

    assert [order_id for page in pages for order_id in page] == rest_ids
    assert [len(page) for page in pages][:2] == [2, 2]
    assert canceled == [rest_ids[-1]]
    assert (bad_status.code(), error_code(bad_status)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_STATUS")
    assert (bad_limit.code(), error_code(bad_limit)) == (grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST")


def test_cancel_all_orders_cancels_only_the_callers_working_orders(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob = traders[0], traders[1]
    bobs = bob.rest_order(symbol="MSFT", side="BUY", quantity=1, price="11.00").json()["order_id"]

    async def scenario() -> tuple[list[int], pb.CancelAllOrdersResponse]:
        async with trading(server) as stub:
            mine = [
                (await stub.SubmitOrder(limit("MSFT", side, "1", price), metadata=alice.metadata)).order_id
                for side, price in ((BUY, "11.00"), (SELL, "99.00"))
            ]
            answer = await stub.CancelAllOrders(pb.CancelAllOrdersRequest(symbol="MSFT"), metadata=alice.metadata)
            return mine, answer

    mine, answer = asyncio.run(scenario())

    assert sorted(answer.order_ids) == sorted(mine)
    assert answer.canceled == 2
    assert bob.http.get(f"/api/orders/{bobs}").json()["status"] == "NEW"


# -- ownership -------------------------------------------------------------------------------------------------------


def test_another_accounts_order_is_indistinguishable_from_an_unknown_one(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob = traders[0], traders[1]
    order_id = alice.rest_order(symbol="MSFT", side="BUY", quantity=1, price="12.00", client_order_id="mine").json()[
        "order_id"
    ]
    unknown = order_id + 10**9

    async def scenario() -> dict[str, Any]:
        async with trading(server) as stub:
            key = bob.metadata
            calls = {
                "get": lambda order: stub.GetOrder(pb.GetOrderRequest(order_id=order), metadata=key),
                "cancel": lambda order: stub.CancelOrder(pb.CancelOrderRequest(order_id=order), metadata=key),
                "amend": lambda order: stub.AmendOrder(
                    pb.AmendOrderRequest(order_id=order, price="12.01"), metadata=key
                ),
            }
            answers: dict[str, Any] = {}
            call: Any
            for name, call in calls.items():
                answers[name] = (await refused(call(order_id)), await refused(call(unknown)))
            answers["by client id"] = await refused(
                stub.GetOrder(pb.GetOrderRequest(client_order_id="mine"), metadata=key)
            )
            answers["list"] = await stub.ListOrders(pb.ListOrdersRequest(), metadata=key)
            return answers

    answers = asyncio.run(scenario())

    for name in ("get", "cancel", "amend"):
        others, missing = answers[name]
        assert others.code() == missing.code() == grpc.StatusCode.NOT_FOUND, name
        assert error_code(others) == error_code(missing) == "NOT_FOUND", name
        assert others.details().replace(str(order_id), "N") == missing.details().replace(str(unknown), "N"), name
    assert answers["by client id"].code() == grpc.StatusCode.NOT_FOUND
    assert list(answers["list"].orders) == []
    assert alice.http.get(f"/api/orders/{order_id}").json()["status"] == "NEW"
    assert alice.http.get(f"/api/orders/{order_id}").json()["price"] == "12.00"


# -- the same validation errors as REST ------------------------------------------------------------------------------

GOOD: dict[str, Any] = {"symbol": "AAPL", "side": "BUY", "quantity": "1", "price": "1.00"}
# Each case: the REST body, and the gRPC request that says the same.
BAD_ORDERS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "NaN price": ({"price": "NaN"}, {"price": "NaN"}),
    "infinite price": ({"price": "Infinity"}, {"price": "Infinity"}),
    "negative price": ({"price": "-1.00"}, {"price": "-1.00"}),
    "zero quantity": ({"quantity": "0"}, {"quantity": "0"}),
    "negative quantity": ({"quantity": "-5"}, {"quantity": "-5"}),
    "NaN quantity": ({"quantity": "nan"}, {"quantity": "nan"}),
    "absurd quantity": ({"quantity": "1e400"}, {"quantity": "1e400"}),
    "off-tick price": ({"price": "1.005"}, {"price": "1.005"}),
    "off-lot quantity": ({"quantity": "1.5"}, {"quantity": "1.5"}),
    "digit separators": ({"quantity": "1_000"}, {"quantity": "1_000"}),
    "not a number": ({"price": "one"}, {"price": "one"}),
    "empty price": ({"price": ""}, {"price": ""}),
    "unknown symbol": ({"symbol": "NOPE"}, {"symbol": "NOPE"}),
    "symbol too long": ({"symbol": "X" * 33}, {"symbol": "X" * 33}),
    "missing symbol": ({"symbol": None}, {"symbol": ""}),
    "missing side": ({"side": None}, {"side": pb.SIDE_UNSPECIFIED}),
    "missing quantity": ({"quantity": None}, {"quantity": ""}),
    "limit without price": ({"price": None}, {"price": None}),
    "GTD without expire time": ({"time_in_force": "GTD"}, {"time_in_force": pb.TIME_IN_FORCE_GTD}),
    "expire time without GTD": (
        {"expire_time": "2099-01-01T00:00:00Z"},
        {"expire_time_ns": 4_070_908_800_000_000_000},
    ),
    "stop without stop price": (
        {"order_type": "STOP", "price": None},
        {"order_type": pb.ORDER_TYPE_STOP, "price": None},
    ),
    "client order id with a space": ({"client_order_id": "a b"}, {"client_order_id": "a b"}),
    "client order id too long": ({"client_order_id": "x" * 65}, {"client_order_id": "x" * 65}),
}
# Unknown enum values: REST gets an unknown name, gRPC an unknown number; same code, same message but the value.
BAD_ENUMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "side": ({"side": "BUY2"}, {"side": 7}),
    "order_type": ({"order_type": "ICEBERG"}, {"order_type": 9}),
    "time_in_force": ({"time_in_force": "GTX"}, {"time_in_force": 42}),
    "stp": ({"stp": "NEVER"}, {"stp": 100}),
}


def _rest_body(changes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in (GOOD | changes).items() if value is not None}


def _grpc_request(changes: dict[str, Any]) -> pb.SubmitOrderRequest:
    fields: dict[str, Any] = {"symbol": "AAPL", "side": BUY, "quantity": "1", "price": "1.00"} | changes
    return pb.SubmitOrderRequest(**{key: value for key, value in fields.items() if value is not None})


def _submit_refusals(server: ServerProcess, api_key: str, requests: list[pb.SubmitOrderRequest]) -> list[Any]:
    async def scenario() -> list[Any]:
        async with trading(server) as stub:
            metadata = (("x-api-key", api_key),)
            return [await refused(stub.SubmitOrder(request, metadata=metadata)) for request in requests]

    return asyncio.run(scenario())


def test_malformed_orders_get_invalid_argument_with_the_rest_code_and_message(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice = traders[0]
    rest = {name: alice.rest_order(**_rest_body(body)) for name, (body, _) in BAD_ORDERS.items()}
    before = _sequence(server)

    errors = _submit_refusals(server, alice.api_key, [_grpc_request(fields) for _, fields in BAD_ORDERS.values()])

    assert _sequence(server) == before, "a malformed order was journaled"
    for name, error in zip(BAD_ORDERS, errors, strict=True):
        expected = rest[name]
        assert expected.status_code in (400, 422), (name, expected.text)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert (error_code(error), error.details()) == (expected.json()["error"], expected.json()["message"]), name


def test_unknown_enum_values_get_the_rest_code_and_message_with_the_number(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice = traders[0]
    rest = {name: alice.rest_order(**_rest_body(body)).json() for name, (body, _) in BAD_ENUMS.items()}

    errors = _submit_refusals(server, alice.api_key, [_grpc_request(fields) for _, fields in BAD_ENUMS.values()])

    for (name, (body, fields)), error in zip(BAD_ENUMS.items(), errors, strict=True):
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, name
        assert error_code(error) == rest[name]["error"] == "INVALID_REQUEST", name
        assert error.details() == rest[name]["message"].replace(repr(body[name]), str(fields[name])), name


def test_malformed_amend_gets_the_rest_code_and_message(server: ServerProcess, traders: list[Trader]) -> None:
    alice = traders[0]
    order_id = alice.rest_order(symbol="AAPL", side="BUY", quantity=1, price="1.00").json()["order_id"]
    amends: list[dict[str, str]] = [{"price": "NaN"}, {"price": "1.001"}, {"quantity": "-1"}, {}, {"price": "1.00"}]
    rest = [alice.http.patch(f"/api/orders/{order_id}", json=amend).json() for amend in amends]

    async def scenario() -> list[Any]:
        async with trading(server) as stub:
            return [
                await refused(
                    stub.AmendOrder(pb.AmendOrderRequest(order_id=order_id, **amend), metadata=alice.metadata)
                )
                for amend in amends
            ]

    errors = asyncio.run(scenario())

    for amend, expected, error in zip(amends, rest, errors, strict=True):
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, amend
        assert (error_code(error), error.details()) == (expected["error"], expected["message"]), amend


# -- metrics ---------------------------------------------------------------------------------------------------------


def test_orders_entered_by_grpc_are_counted_with_gateway_grpc(server: ServerProcess, traders: list[Trader]) -> None:
    def counted() -> dict[str, float]:
        text = httpx.get(f"{server.url}/metrics", timeout=10).text
        wanted = (
            'orders_processed_total{gateway="grpc",outcome="accepted"}',
            'order_latency_microseconds_count{gateway="grpc"}',
        )
        found = dict.fromkeys(wanted, 0.0)
        for line in text.splitlines():
            name, _, value = line.rpartition(" ")
            if name in found:
                found[name] = float(value)
        return found

    before = counted()

    async def scenario() -> None:
        async with trading(server) as stub:
            for _ in range(3):
                await stub.SubmitOrder(limit("MSFT", BUY, "1", "13.00"), metadata=traders[0].metadata)

    asyncio.run(scenario())
    after = counted()

    assert all(after[name] - before[name] == 3 for name in after), (before, after)


# -- rate limit ------------------------------------------------------------------------------------------------------


def test_calls_over_the_rate_limit_are_resource_exhausted_with_retry_after(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    env = GRPC_ON | {"HFT_RATE_LIMIT": "5"}
    with ServerProcess(tmp_path_factory.mktemp("grpc-rate") / "data", env=env) as limited:
        trader = Trader(limited, "eager")

        async def scenario() -> list[Any]:
            async with trading(limited) as stub:
                calls = [stub.ListOrders(pb.ListOrdersRequest(), metadata=trader.metadata) for _ in range(20)]
                return await asyncio.gather(*calls, return_exceptions=True)

        try:
            answers = asyncio.run(scenario())
        finally:
            trader.http.close()

    limited_calls = [answer for answer in answers if isinstance(answer, grpc.aio.AioRpcError)]
    assert 0 < len(limited_calls) < 20
    for error in limited_calls:
        assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert error_code(error) == "RATE_LIMITED"
        assert dict(error.trailing_metadata())["retry-after"] == "1"
