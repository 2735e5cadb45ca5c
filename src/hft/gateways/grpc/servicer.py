"""The ``hft.v1.Trading`` service: each call decodes its request, asks the venue what REST asks, and answers.

The decisions live in ``hft.gateways.orders`` (shared with REST); this module only translates.
"""

from __future__ import annotations

import time
from typing import Final

from hft.domain.exchange import queries
from hft.gateways import orders
from hft.gateways.grpc import messages
from hft.gateways.grpc.calls import Context, Servicer, unary
from hft.gateways.grpc.streams import StreamHub, Subscription, pump
from hft.gateways.grpc.v1 import trading_pb2 as pb
from hft.gateways.grpc.v1 import trading_pb2_grpc
from hft.gateways.rest.convert import InputError
from hft.service.venue import Venue

SNAPSHOT_DEPTH: Final = 50  # as the WebSocket book channel
MAX_SYMBOLS: Final = 200  # per market data stream, as per WebSocket connection


class TradingServicer(Servicer, trading_pb2_grpc.TradingServicer):
    """Serves every call of ``hft.v1.Trading`` from ``venue``; streams are fed by ``hub``."""

    def __init__(self, venue: Venue, hub: StreamHub) -> None:
        super().__init__(venue)
        self.hub = hub
        metrics = venue.metrics
        # Children used on every order, looked up once.
        self.accepted = metrics.orders_processed.labels("grpc", "accepted")
        self.rejected = metrics.orders_processed.labels("grpc", "rejected")
        self.latency = metrics.order_latency.labels("grpc")

    # -- orders ------------------------------------------------------------------------------------------------------

    @unary
    async def SubmitOrder(self, request: pb.SubmitOrderRequest, account: int) -> pb.Order:
        """Decode, validate, journal and match one order; answer with it as it stands after matching."""
        started = time.perf_counter_ns()
        decoded = messages.order_request(request)
        order, instrument = await orders.enter_order(
            self.venue, account, decoded, started, self.accepted, self.rejected
        )
        answer = messages.order_message(order, instrument)
        self.latency.observe((time.perf_counter_ns() - started) / 1000)
        return answer

    @unary
    async def CancelOrder(self, request: pb.CancelOrderRequest, account: int) -> pb.Order:
        """Cancel a working order of the account (journaled)."""
        order = await orders.cancel_order(self.venue, account, request.order_id)
        return messages.order_message(order, self.venue.by_symbol[order.symbol])

    @unary
    async def AmendOrder(self, request: pb.AmendOrderRequest, account: int) -> pb.Order:
        """Change a working order of the account in place (journaled)."""
        amend = messages.amend_request(request)
        order = await orders.amend_order(self.venue, account, request.order_id, amend)
        return messages.order_message(order, self.venue.by_symbol[order.symbol])

    @unary
    async def CancelAllOrders(self, request: pb.CancelAllOrdersRequest, account: int) -> pb.CancelAllOrdersResponse:
        """Cancel every working order of the account, optionally of one symbol and side (one journaled command)."""
        if request.side and request.side not in messages.SIDE_NAMES:
            raise InputError("INVALID_SIDE", "side must be BUY or SELL")
        side = messages.SIDE_NAMES.get(request.side)
        canceled = await orders.cancel_all(self.venue, account, request.symbol or None, side)
        return pb.CancelAllOrdersResponse(canceled=len(canceled), order_ids=canceled)

    @unary
    async def GetOrder(self, request: pb.GetOrderRequest, account: int) -> pb.Order:
        """Return one of the account's orders, by order id or client order id."""
        key = request.WhichOneof("key")
        if key == "order_id":
            order = orders.owned_order(self.venue, account, request.order_id)
        elif key == "client_order_id":
            order = orders.order_by_client_id(self.venue, account, request.client_order_id)
        else:
            raise InputError("INVALID_REQUEST", "give order_id or client_order_id", status=400)
        return messages.order_message(order, self.venue.by_symbol[order.symbol])

    @unary
    async def ListOrders(self, request: pb.ListOrdersRequest, account: int) -> pb.ListOrdersResponse:
        """Return a page of the account's orders, newest first."""
        status = None
        if request.status:
            # An unknown number is an unknown status, refused as REST refuses an unknown name.
            status = messages.STATUS_NAMES.get(request.status, str(request.status))
        found, next_before = orders.list_orders(
            self.venue,
            account,
            status=status,
            symbol=request.symbol or None,
            open_only=request.open_only,
            before=messages.page_before(request.before),
            limit=messages.page_limit(request.limit, orders.MAX_PAGE),
        )
        by_symbol = self.venue.by_symbol
        page = [messages.order_message(order, by_symbol[order.symbol]) for order in found]
        return pb.ListOrdersResponse(orders=page, next_before=next_before)

    # -- account -----------------------------------------------------------------------------------------------------

    @unary
    async def ListExecutions(self, request: pb.ListExecutionsRequest, account: int) -> pb.ListExecutionsResponse:
        """Return a page of the account's fills, newest first."""
        limit = messages.page_limit(request.limit, orders.MAX_PAGE)
        found = self.venue.history.list_executions(
            account,
            symbol=request.symbol or None,
            order_id=request.order_id or None,
            before=messages.page_before(request.before),
            limit=limit,
        )
        by_symbol = self.venue.by_symbol
        page = [messages.execution_message(execution, by_symbol[execution.symbol]) for execution in found]
        return pb.ListExecutionsResponse(
            executions=page, next_before=found[-1].execution_id if len(found) == limit else None
        )

    @unary
    async def ListPositions(self, request: pb.ListPositionsRequest, account: int) -> pb.ListPositionsResponse:
        """Return every symbol the account has traded, with average price and P&L against the mark."""
        del request  # no fields
        view = queries.account(self.venue.core.exchange, account)
        traded = [] if view is None else [position for position in view.positions if position.volume]
        by_symbol = self.venue.by_symbol
        return pb.ListPositionsResponse(
            positions=[messages.position_message(position, by_symbol[position.symbol]) for position in traded]
        )

    @unary
    async def GetAccount(self, request: pb.GetAccountRequest, account: int) -> pb.Account:
        """Return balances, buying power, P&L totals, risk limits and positions."""
        del request  # no fields
        view = queries.account(self.venue.core.exchange, account)
        assert view is not None  # an authenticated account exists
        return messages.account_message(view, self.venue.by_symbol)

    # -- streams -----------------------------------------------------------------------------------------------------

    async def StreamExecutions(self, request: pb.StreamExecutionsRequest, context: Context) -> None:
        """Write the account's fills as they happen until the client cancels or falls too far behind."""
        try:
            account = self.authenticate(context)
            if request.symbol:
                orders.instrument_of(self.venue, request.symbol)
            subscription: Subscription = self.hub.open_executions(account, request.symbol)
        except Exception as error:
            refusal = self.refusal(error, "StreamExecutions")
            await refusal.end(context)
        await self._pump(subscription, context)

    async def StreamMarketData(self, request: pb.StreamMarketDataRequest, context: Context) -> None:
        """Write a book snapshot of each symbol, then every book update and trade as they happen."""
        try:
            self.authenticate(context)
            symbols = list(dict.fromkeys(request.symbols))  # once each, in the order asked
            if not symbols or len(symbols) > MAX_SYMBOLS:
                raise InputError("INVALID_REQUEST", f"give 1 to {MAX_SYMBOLS} symbols", status=400)
            for symbol in symbols:
                orders.instrument_of(self.venue, symbol)
            depth = request.depth or SNAPSHOT_DEPTH
            if not 0 < depth <= orders.MAX_PAGE:
                raise InputError("INVALID_REQUEST", f"depth must be 1 to {orders.MAX_PAGE}", status=400)
            subscription = self.hub.open_market(symbols, depth)
        except Exception as error:
            refusal = self.refusal(error, "StreamMarketData")
            await refusal.end(context)
        await self._pump(subscription, context)

    async def _pump(self, subscription: Subscription, context: Context) -> None:
        try:
            # Headers now, before any message: the client can tell the stream is live (nothing is missed from here).
            await context.send_initial_metadata(())
            await pump(subscription, context)
        finally:
            self.hub.close(subscription)
