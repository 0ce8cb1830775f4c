namespace Recommend.Core.Catalog;

/// <summary>
/// Port: whether the store behind the catalog, history and caches can serve yet — a database may still be connecting
/// or migrating when the process starts. Until it is ready, its calls fail with
/// <see cref="Errors.DependencyUnavailableException"/> and readiness reports NOT_SERVING.
/// </summary>
public interface IStoreReadiness
{
    /// <summary>Provider name for status output, e.g. "sqlite" or "postgres".</summary>
    string Name { get; }

    bool IsReady { get; }

    /// <summary>Completes once the store is ready.</summary>
    Task WhenReadyAsync(CancellationToken ct);

    /// <summary>
    /// One round trip that reads the catalog's first row: whether the store answers now, at a cost that does not grow
    /// with its data (readiness probes call it every few seconds). Throws as every port method does when it cannot.
    /// </summary>
    Task PingAsync(CancellationToken ct);
}
