"""Version 1 of the gRPC API: ``trading.proto`` and the modules protoc generates from it.

The generated modules (``trading_pb2``, ``trading_pb2_grpc``) are not in git: the installed package carries them,
and in a source checkout they are generated here on first import (see ``hft.gateways.grpc.codegen``).
"""

from hft.gateways.grpc.codegen import ensure_generated

ensure_generated()
