using Microsoft.Extensions.Logging;
using Recommend.Indexing.Jobs;

namespace Recommend.Indexing.Pipeline;

/// <summary>
/// Holds one claimed work unit (a job or a shard) for the length of a run: renews its lease in the background, learns
/// of cancel requests, and saves the unit's state fenced by its owner. <see cref="Stopping"/> fires when the caller
/// stops, a cancel is requested, or the lease is lost (another runner took the unit over) — then nothing more is saved.
/// </summary>
internal sealed class LeaseKeeper : IAsyncDisposable
{
    private readonly IReindexJobStore _jobs;
    private readonly ReindexOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop;
    private readonly Task _heartbeat;
    private volatile bool _cancelRequested;
    private volatile bool _leaseLost;

    public LeaseKeeper(IReindexJobStore jobs, ReindexOptions options, TimeProvider time, ILogger logger,
        WorkUnit unit, RunState claimed, bool cancelRequested, CancellationToken ct)
    {
        _jobs = jobs;
        _options = options;
        _time = time;
        _logger = logger;
        Unit = unit;
        Run = claimed;
        _cancelRequested = cancelRequested;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        _heartbeat = HeartbeatAsync();
    }

    public WorkUnit Unit { get; }

    /// <summary>The unit's state as this run last saved it.</summary>
    public RunState Run { get; private set; }

    public CancellationToken Stopping => _stop.Token;

    public bool CancelRequested => _cancelRequested;

    public bool LeaseLost => _leaseLost;

    /// <summary>Saves <paramref name="change"/> of the unit's state (and the batch, atomically) with a renewed lease.</summary>
    /// <exception cref="OperationCanceledException">The lease was lost: another runner owns the unit now.</exception>
    public async Task<RunState> SaveAsync(Func<RunState, RunState> change, JobBatch? batch, CancellationToken ct)
    {
        var next = change(Run) with { LeaseExpiresAt = _time.GetUtcNow() + _options.LeaseDuration };
        if (!await _jobs.SaveRunAsync(Unit, next, batch, ct)) throw Lost();
        Run = next;
        return next;
    }

    /// <summary>Records the version a whole job builds and its source's size, before its first pass.</summary>
    public async Task SetTargetAsync(string targetVersion, long total, CancellationToken ct)
    {
        if (!await _jobs.SetTargetAsync(Unit.JobId, _options.Owner, targetVersion, total, ct)) throw Lost();
    }

    /// <summary>The final save: not cancellable, since the run's outcome must be recorded.</summary>
    public Task<RunState> EndAsync(ReindexState state, string? error) =>
        SaveAsync(r => r with { State = state, Error = error, FinishedAt = _time.GetUtcNow() }, null, CancellationToken.None);

    private OperationCanceledException Lost()
    {
        _leaseLost = true;
        return new OperationCanceledException($"reindex {Unit} is now run by another owner");
    }

    private async Task HeartbeatAsync()
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                try
                {
                    var status = await _jobs.RenewLeaseAsync(Unit, _options.Owner, _time.GetUtcNow() + _options.LeaseDuration, _stop.Token);
                    if (status is { CancelRequested: false }) continue;
                    if (status is null) _leaseLost = true;
                    else _cancelRequested = true;
                    await _stop.CancelAsync();
                    return;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A store hiccup: the lease has slack for several missed beats.
                    _logger.LogWarning(e, "Could not renew the lease of reindex {Unit}", Unit);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _heartbeat;
        _stop.Dispose();
    }
}
