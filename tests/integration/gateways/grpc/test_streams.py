"""The gRPC streams of a real ``hft serve``: own fills only, market data from a snapshot on, slow consumers, shutdown.

Orders go in over gRPC (or REST to set a scene); the streams are read with ``grpc.aio`` clients. A stream
is live once its initial metadata has arrived, so scenarios wait for that before trading.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import grpc
import httpx
import pytest
from tests.integration.gateways.grpc.client import Trader, error_code, limit, next_message, read_until, trading
from tests.integration.gateways.grpc.conftest import GRPC_ON

from hft.gateways.grpc.v1 import trading_pb2 as pb
from hft.testing.server import ServerProcess

BUY, SELL = pb.SIDE_BUY, pb.SIDE_SELL
SMALL_QUEUE = 10  # the smallest ws_max_queue, which gRPC streams share


# -- executions ------------------------------------------------------------------------------------------------------


def test_execution_stream_gets_the_callers_own_fills_and_never_another_accounts(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob, carol = traders

    async def scenario() -> dict[str, Any]:
        async with trading(server) as stub:
            alices = stub.StreamExecutions(pb.StreamExecutionsRequest(), metadata=alice.metadata)
            alices_msft = stub.StreamExecutions(pb.StreamExecutionsRequest(symbol="MSFT"), metadata=alice.metadata)
            carols = stub.StreamExecutions(pb.StreamExecutionsRequest(), metadata=carol.metadata)
            for stream in (alices, alices_msft, carols):
                await stream.initial_metadata()
            resting = await stub.SubmitOrder(limit("AAPL", SELL, "10", "101.00"), metadata=alice.metadata)
            crossing = await stub.SubmitOrder(limit("AAPL", BUY, "4", "101.00"), metadata=bob.metadata)
            # Carol's first message is her own fill: the alice-bob trade before it never reached her.
            carols_order = await stub.SubmitOrder(limit("AAPL", BUY, "1", "101.00"), metadata=carol.metadata)
            msft = await stub.SubmitOrder(limit("MSFT", SELL, "2", "30.00"), metadata=alice.metadata)
            await stub.SubmitOrder(limit("MSFT", BUY, "2", "30.00"), metadata=bob.metadata)
            answer = {
                "alice": [await next_message(alices) for _ in range(3)],
                "alice MSFT": await next_message(alices_msft),
                "carol": await next_message(carols),
                "orders": (resting, crossing, carols_order, msft),
            }
            for stream in (alices, alices_msft, carols):
                stream.cancel()
            return answer

    answer = asyncio.run(scenario())
    resting, crossing, carols_order, msft = answer["orders"]
    first, second, third = answer["alice"]
    rest_fills = alice.http.get("/api/executions").json()["executions"]

    assert crossing.status == pb.ORDER_STATUS_FILLED
    assert (first.order_id, first.side, first.quantity, first.price) == (resting.order_id, SELL, "4", "101.00")
    assert first.liquidity == pb.LIQUIDITY_MAKER
    assert (second.order_id, second.quantity) == (resting.order_id, "1")
    assert (third.order_id, third.symbol) == (msft.order_id, "MSFT")
    assert answer["alice MSFT"] == third
    carols_fill = answer["carol"]
    assert (carols_fill.order_id, carols_fill.liquidity) == (carols_order.order_id, pb.LIQUIDITY_TAKER)
    assert sorted(fill.execution_id for fill in (first, second, third)) == sorted(
        fill["execution_id"] for fill in rest_fills
    )
    assert {fill["fee"] for fill in rest_fills} == {fill.fee for fill in (first, second, third)}


def test_execution_stream_refuses_an_unknown_symbol(server: ServerProcess, traders: list[Trader]) -> None:
    async def scenario() -> grpc.aio.AioRpcError:
        async with trading(server) as stub:
            stream = stub.StreamExecutions(pb.StreamExecutionsRequest(symbol="NOPE"), metadata=traders[0].metadata)
            try:
                await stream.read()
            except grpc.aio.AioRpcError as error:
                return error
            raise AssertionError("the stream opened")

    error = asyncio.run(scenario())

    assert (error.code(), error_code(error)) == (grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_SYMBOL")


# -- market data -----------------------------------------------------------------------------------------------------

Book = dict[str, dict[Decimal, Decimal]]


def _apply(book: Book, levels: dict[str, Any]) -> None:
    for side in ("bids", "asks"):
        for level in levels[side]:
            price, quantity = Decimal(level.price), Decimal(level.quantity)
            if quantity:
                book[side][price] = quantity
            else:
                book[side].pop(price, None)


def _rest_book(server: ServerProcess, symbol: str) -> tuple[Book, int]:
    answer = httpx.get(f"{server.url}/api/book/{symbol}", timeout=10).json()
    book = {side: {Decimal(price): Decimal(quantity) for price, quantity in answer[side]} for side in ("bids", "asks")}
    return book, answer["sequence"]


def test_market_data_stream_starts_with_the_book_then_follows_every_update_and_trade(
    server: ServerProcess, traders: list[Trader]
) -> None:
    alice, bob = traders[0], traders[1]
    for side, quantity, price in (("BUY", "0.5", "30000.00"), ("BUY", "1", "29999.00"), ("SELL", "0.3", "30010.00")):
        assert alice.rest_order(symbol="BTC-USD", side=side, quantity=quantity, price=price).status_code == 201
    rest_before, _ = _rest_book(server, "BTC-USD")

    async def scenario() -> tuple[list[pb.MarketDataEvent], pb.MarketDataEvent, pb.Order]:
        async with trading(server) as stub:
            stream = stub.StreamMarketData(pb.StreamMarketDataRequest(symbols=["BTC-USD"]), metadata=bob.metadata)
            snapshot = await next_message(stream)
            crossing = await stub.SubmitOrder(limit("BTC-USD", SELL, "0.2", "30000.00"), metadata=bob.metadata)
            await stub.SubmitOrder(limit("BTC-USD", SELL, "0.1", "30005.00"), metadata=bob.metadata)
            later = await read_until(
                stream, lambda event: event.update.asks and event.update.asks[0].price == "30005.00"
            )
            stream.cancel()
            return [snapshot, *later], snapshot, crossing

    events, snapshot, crossing = asyncio.run(scenario())
    rest_after, rest_sequence = _rest_book(server, "BTC-USD")

    assert snapshot.WhichOneof("event") == "snapshot"
    assert snapshot.symbol == "BTC-USD"
    local: Book = {"bids": {}, "asks": {}}
    _apply(local, {"bids": snapshot.snapshot.bids, "asks": snapshot.snapshot.asks})
    assert local == rest_before
    assert [level.price for level in snapshot.snapshot.bids] == ["30000.00", "29999.00"]  # best first
    sequence = snapshot.snapshot.sequence
    trades: list[pb.Trade] = []
    for event in events[1:]:
        kind = event.WhichOneof("event")
        if kind == "update":
            assert event.update.previous_sequence == sequence, "an update was missed"
            sequence = event.update.sequence
            _apply(local, {"bids": event.update.bids, "asks": event.update.asks})
        else:
            assert kind == "trades"
            trades.extend(event.trades.trades)
    assert local == rest_after
    assert sequence == rest_sequence
    assert crossing.status == pb.ORDER_STATUS_FILLED
    [trade] = trades
    assert (trade.price, trade.quantity, trade.aggressor_side) == ("30000.00", "0.2000", SELL)


@pytest.mark.parametrize(
    ("request_fields", "status", "code"),
    [
        ({"symbols": []}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST"),
        ({"symbols": ["AAPL", "NOPE"]}, grpc.StatusCode.INVALID_ARGUMENT, "UNKNOWN_SYMBOL"),
        ({"symbols": ["AAPL"], "depth": 1001}, grpc.StatusCode.INVALID_ARGUMENT, "INVALID_REQUEST"),
    ],
)
def test_market_data_stream_refuses_bad_requests(
    server: ServerProcess, traders: list[Trader], request_fields: dict[str, Any], status: grpc.StatusCode, code: str
) -> None:
    async def scenario() -> grpc.aio.AioRpcError:
        async with trading(server) as stub:
            stream = stub.StreamMarketData(pb.StreamMarketDataRequest(**request_fields), metadata=traders[0].metadata)
            try:
                await stream.read()
            except grpc.aio.AioRpcError as error:
                return error
            raise AssertionError("the stream opened")

    error = asyncio.run(scenario())

    assert (error.code(), error_code(error)) == (status, code)


# -- slow consumers and cancellation -------------------------------------------------------------------------------


@pytest.fixture
def small_queue_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose streams may fall only ``SMALL_QUEUE`` messages behind."""
    env = GRPC_ON | {"HFT_WS_MAX_QUEUE": str(SMALL_QUEUE)}
    with ServerProcess(tmp_path_factory.mktemp("grpc-small") / "data", env=env) as running:
        yield running


async def _flood_until_cut_off(server: ServerProcess, stub: Any, trader: Trader) -> tuple[int, float]:
    """Rest one-lot bids at new prices (a book update each) until the server cuts a stream off; return how many."""
    slowest = 0.0
    for count in range(1, 20_001):
        started = time.perf_counter()
        price = f"{10 + count / 100:.2f}"
        await stub.SubmitOrder(limit("AAPL", BUY, "1", price), metadata=trader.metadata)
        slowest = max(slowest, time.perf_counter() - started)
        if count % 250 == 0 and "gRPC stream cut off" in server.log():
            return count, slowest
    raise AssertionError("no stream was cut off")


def test_stream_that_stops_reading_is_cut_off_with_resource_exhausted_while_trading_goes_on(
    small_queue_server: ServerProcess,
) -> None:
    trader = Trader(small_queue_server, "flood")

    async def scenario() -> tuple[int, float, int, grpc.aio.AioRpcError]:
        # Without window growth (BDP probing) the client takes at most 64 KiB before the server must queue.
        async with (
            trading(small_queue_server, **{"grpc.http2.bdp_probe": 0}) as slow,
            trading(small_queue_server) as fast,
        ):
            stream = slow.StreamMarketData(pb.StreamMarketDataRequest(symbols=["AAPL"]), metadata=trader.metadata)
            await stream.initial_metadata()
            orders, slowest = await _flood_until_cut_off(small_queue_server, fast, trader)
            received = 0
            try:
                async with asyncio.timeout(30):
                    async for _ in stream:
                        received += 1
            except grpc.aio.AioRpcError as error:
                return orders, slowest, received, error
            raise AssertionError("the stream ended normally")

    try:
        orders, slowest, received, error = asyncio.run(scenario())
    finally:
        trader.close()

    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert error_code(error) == "SLOW_CONSUMER"
    assert error.details() == f"slow consumer: more than {SMALL_QUEUE} messages behind"
    assert received < orders + 1, "the stream was not cut short"
    assert slowest < 1.0, "order entry waited for the slow stream"
    assert "Traceback" not in small_queue_server.log()


def test_streams_canceled_by_their_clients_leave_the_server_serving(small_queue_server: ServerProcess) -> None:
    trader = Trader(small_queue_server, "quitter")

    async def scenario() -> pb.MarketDataEvent:
        async with trading(small_queue_server) as stub:
            for _ in range(20):
                stream = stub.StreamMarketData(pb.StreamMarketDataRequest(symbols=["MSFT"]), metadata=trader.metadata)
                await next_message(stream)
                executions = stub.StreamExecutions(pb.StreamExecutionsRequest(), metadata=trader.metadata)
                await executions.initial_metadata()
                stream.cancel()
                executions.cancel()
            await stub.SubmitOrder(limit("MSFT", BUY, "1", "5.00"), metadata=trader.metadata)
            survivor = stub.StreamMarketData(pb.StreamMarketDataRequest(symbols=["MSFT"]), metadata=trader.metadata)
            snapshot: pb.MarketDataEvent = await next_message(survivor)
            survivor.cancel()
            return snapshot

    try:
        snapshot = asyncio.run(scenario())
    finally:
        trader.close()

    assert [level.price for level in snapshot.snapshot.bids] == ["5.00"]
    log = small_queue_server.log()
    assert "Traceback" not in log
    assert "failed" not in log


# -- shutdown ----------------------------------------------------------------------------------------------------------


def test_shutdown_ends_open_streams_with_unavailable_and_exits_cleanly(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = ServerProcess(tmp_path_factory.mktemp("grpc-stop") / "data", env=GRPC_ON).start()
    trader = Trader(server, "last")
    trader.http.close()

    async def scenario() -> tuple[list[BaseException | Any], int, float]:
        async with trading(server) as stub:
            market = stub.StreamMarketData(pb.StreamMarketDataRequest(symbols=["AAPL"]), metadata=trader.metadata)
            executions = stub.StreamExecutions(pb.StreamExecutionsRequest(), metadata=trader.metadata)
            await next_message(market)
            await executions.initial_metadata()

            async def drain(stream: Any) -> Any:
                while await stream.read() is not grpc.aio.EOF:
                    pass
                return stream

            started = time.monotonic()
            ends = asyncio.gather(drain(market), drain(executions), return_exceptions=True)
            exit_code = await asyncio.to_thread(server.stop)
            return list(await asyncio.wait_for(ends, 10)), exit_code, time.monotonic() - started

    try:
        ends, exit_code, took = asyncio.run(scenario())
    finally:
        server.kill()

    assert exit_code == 0
    assert took < 10
    for end in ends:
        assert isinstance(end, grpc.aio.AioRpcError), end
        assert end.code() == grpc.StatusCode.UNAVAILABLE
        assert error_code(end) == "UNAVAILABLE"
        assert end.details() == "the server is shutting down"
