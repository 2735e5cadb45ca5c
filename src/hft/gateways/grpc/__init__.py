"""The gRPC gateway: order entry, queries and live streams for internal services (``hft.v1.Trading``, port 50051).

``v1/trading.proto`` is the contract; ``server.GrpcGateway`` serves it. See docs/api/grpc.md.
"""
