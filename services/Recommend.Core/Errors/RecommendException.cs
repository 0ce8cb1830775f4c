using Recommend.Core.Vectors;

namespace Recommend.Core.Errors;

/// <summary>
/// A failure the service means to report: its kind (the subclass) decides the status a caller gets, and its message is
/// written for that caller — it never carries internal addresses or raw backend text (those go to the log).
/// </summary>
public abstract class RecommendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Something the request names does not exist (NOT_FOUND upstream).</summary>
public class NotFoundException(string message) : RecommendException(message);

/// <summary>A product named in the request does not exist (or was deleted).</summary>
public sealed class ProductNotFoundException(string productId) : NotFoundException($"Product '{productId}' was not found.")
{
    public string ProductId { get; } = productId;
}

/// <summary>The request is well formed but the service's state forbids it (FAILED_PRECONDITION upstream).</summary>
public class PreconditionFailedException(string message) : RecommendException(message);

/// <summary>A field of the request breaks a rule the domain enforces for every caller (INVALID_ARGUMENT upstream).</summary>
public class InvalidRequestException(string field, string message) : RecommendException(message)
{
    /// <summary>The request field at fault, as the caller spells it (e.g. "source").</summary>
    public string Field { get; } = field;
}

/// <summary>
/// A backing service (vector index, store) cannot answer right now. Adapters translate their backend's transient faults
/// into it, so the host answers UNAVAILABLE and ranking can degrade to other signals.
/// </summary>
public class DependencyUnavailableException(string dependency, string message, Exception? inner = null)
    : RecommendException(message, inner)
{
    /// <summary>Which dependency failed, e.g. "store" or "vector index".</summary>
    public string Dependency { get; } = dependency;
}

/// <summary>The live index was built by another model or dimension than the caller's vectors (FAILED_PRECONDITION upstream).</summary>
public sealed class IndexSpecMismatchException(IndexSpec live, IndexSpec requested)
    : PreconditionFailedException($"The live index holds {live.ModelId} vectors of dimension {live.Dimension}, not {requested.ModelId}/{requested.Dimension}; re-index first.")
{
    public IndexSpec Live { get; } = live;
    public IndexSpec Requested { get; } = requested;
}
