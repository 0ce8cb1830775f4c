namespace Recommend.Core.Ranking;

/// <summary>A product named in the request does not exist (or was deleted).</summary>
public sealed class ProductNotFoundException(string productId)
    : Exception($"Product '{productId}' was not found.")
{
    public string ProductId { get; } = productId;
}

/// <summary>
/// A backing service (vector index, store) cannot answer right now. Adapters raise it (or a subclass) for
/// faults worth a retry later, so the host can answer UNAVAILABLE and ranking can degrade to other signals.
/// </summary>
public class DependencyUnavailableException(string dependency, string message, Exception? inner = null)
    : Exception(message, inner)
{
    public string Dependency { get; } = dependency;
}
