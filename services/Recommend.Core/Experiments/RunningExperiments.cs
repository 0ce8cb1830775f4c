using Microsoft.Extensions.Logging;

namespace Recommend.Core.Experiments;

/// <summary>
/// The running experiments by placement, as serving reads them on every request: a snapshot refreshed from the store
/// every few seconds in the background (another replica's start or stop shows within <see cref="RefreshInterval"/>), so
/// no request waits on the database except the very first. If the store cannot be read, the last snapshot keeps serving
/// (none at all, if it never could, until a refresh succeeds).
/// </summary>
public sealed class RunningExperiments(IExperimentStore store, TimeProvider time, ILogger<RunningExperiments> logger)
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    private sealed record Snapshot(IReadOnlyDictionary<string, Experiment> ByPlacement, IReadOnlyDictionary<string, Experiment> ById, DateTimeOffset LoadedAt);

    private static readonly Snapshot Empty = new(new Dictionary<string, Experiment>(), new Dictionary<string, Experiment>(), DateTimeOffset.MinValue);

    private volatile Snapshot? _snapshot;
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    /// <summary>The experiment running on <paramref name="placement"/>, if any.</summary>
    public async ValueTask<Experiment?> ForPlacementAsync(string? placement, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(placement)) return null;
        return (await CurrentAsync(ct)).ByPlacement.GetValueOrDefault(placement);
    }

    /// <summary>The running experiment with this id, if any (events name it through their recommendation id).</summary>
    public async ValueTask<Experiment?> ByIdAsync(string experimentId, CancellationToken ct) =>
        (await CurrentAsync(ct)).ById.GetValueOrDefault(experimentId);

    /// <summary>Forgets the snapshot, so the next request reads the store (after this replica started or stopped one).</summary>
    public void Invalidate() => _snapshot = null;

    private async ValueTask<Snapshot> CurrentAsync(CancellationToken ct)
    {
        var snapshot = _snapshot;
        if (snapshot is null) return await RefreshAsync(wait: true, ct) ?? Empty;
        if (time.GetUtcNow() - snapshot.LoadedAt > RefreshInterval) _ = RefreshAsync(wait: false, CancellationToken.None);
        return snapshot;
    }

    /// <summary>One refresh at a time; callers that do not wait return at once when one is under way.</summary>
    private async Task<Snapshot?> RefreshAsync(bool wait, CancellationToken ct)
    {
        if (!await _refreshing.WaitAsync(wait ? Timeout.InfiniteTimeSpan : TimeSpan.Zero, ct)) return _snapshot;
        try
        {
            if (_snapshot is { } fresh && time.GetUtcNow() - fresh.LoadedAt <= RefreshInterval) return fresh;
            var experiments = await store.ListRunningExperimentsAsync(ct);
            var snapshot = new Snapshot(
                experiments.SelectMany(e => e.Placements.Select(p => (p, e))).ToDictionary(pe => pe.p, pe => pe.e, StringComparer.Ordinal),
                experiments.ToDictionary(e => e.Id, StringComparer.Ordinal),
                time.GetUtcNow());
            _snapshot = snapshot;
            return snapshot;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Keep what was known; with nothing known yet, serve without experiments until the next refresh is due, so
            // requests do not each wait on a store that is down.
            logger.LogWarning(e, "Could not read the running experiments; serving with the last known set");
            return _snapshot ??= Empty with { LoadedAt = time.GetUtcNow() };
        }
        finally
        {
            _refreshing.Release();
        }
    }
}
