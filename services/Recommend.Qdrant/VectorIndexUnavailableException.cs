using Grpc.Core;

namespace Recommend.Qdrant;

/// <summary>
/// Qdrant could not be reached in time (connection refused, timed out, or the circuit breaker is open).
/// It is an <see cref="RpcException"/> with status UNAVAILABLE so a gRPC host that lets it escape answers
/// UNAVAILABLE without a mapping of its own, while callers that can degrade catch this type.
/// </summary>
public sealed class VectorIndexUnavailableException(string message, Exception inner)
    : RpcException(new Status(StatusCode.Unavailable, message, inner), message)
{
}
