using Recommend.Core.Errors;

namespace Recommend.Qdrant;

/// <summary>
/// Qdrant could not be reached in time (connection refused, timed out, or the circuit breaker is open). The message is
/// for clients (no address, no socket text); the cause stays in <see cref="Exception.InnerException"/> for the log.
/// </summary>
public sealed class VectorIndexUnavailableException(string operation, Exception inner)
    : DependencyUnavailableException("vector index", $"the vector index is unavailable ({operation}); retry later", inner);
