using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Recommend.Core.Errors;

namespace Recommend.Core.Experiments;

/// <summary>
/// Exposures on their way to the store, off the request path: a bounded queue that <see cref="RunAsync"/> drains in
/// batches. A request only enqueues; when the store falls so far behind that the queue is full, new exposures are
/// dropped and counted rather than slowing the storefront. On a clean shutdown everything queued is written; a crash
/// loses what was queued and not yet flushed (normally under one flush interval's worth).
/// </summary>
public sealed class ExposureLog(IExperimentStore store, ExperimentMetrics metrics, ILogger<ExposureLog> logger, ExposureLogOptions? options = null)
{
    private readonly ExposureLogOptions _options = options ?? new ExposureLogOptions();
    private readonly Channel<Exposure> _queue = Channel.CreateBounded<Exposure>(new BoundedChannelOptions(options?.Capacity ?? ExposureLogOptions.DefaultCapacity)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    /// <summary>Exposures waiting to be written (the gauge recommend.experiment.exposure_queue.depth).</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>Queues an answer's exposures; those that find the queue full are dropped and counted.</summary>
    public void Enqueue(IReadOnlyList<Exposure> exposures)
    {
        foreach (var exposure in exposures)
        {
            if (!_queue.Writer.TryWrite(exposure)) metrics.ExposureDropped();
        }
    }

    /// <summary>Writes batches until <paramref name="stopping"/> fires, then what is still queued, and returns.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        var batch = new List<Exposure>(_options.BatchSize);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stopping))
            {
                // Let a batch fill a little (one write of many rows costs about what one row does) — unless a full one waits.
                if (_queue.Reader.Count < _options.BatchSize) await Task.Delay(_options.FlushInterval, stopping);
                while (batch.Count < _options.BatchSize && _queue.Reader.TryRead(out var exposure)) batch.Add(exposure);
                await WriteAsync(batch, stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // shutting down: drain below
        }
        _queue.Writer.TryComplete();
        while (_queue.Reader.TryRead(out var exposure))
        {
            batch.Add(exposure);
            if (batch.Count == _options.BatchSize) await WriteAsync(batch, CancellationToken.None);
        }
        await WriteAsync(batch, CancellationToken.None);
    }

    /// <summary>Writes and clears <paramref name="batch"/>, retrying while the store is unavailable (but not past a shutdown's drain).</summary>
    private async Task WriteAsync(List<Exposure> batch, CancellationToken stopping)
    {
        if (batch.Count == 0) return;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.RecordExposuresAsync(batch, CancellationToken.None);
                batch.Clear();
                return;
            }
            catch (DependencyUnavailableException e) when (attempt < _options.MaxAttempts)
            {
                logger.LogWarning(e, "Could not write {Count} exposures (attempt {Attempt}); retrying", batch.Count, attempt);
                try
                {
                    await Task.Delay(_options.RetryDelay * attempt, stopping);
                }
                catch (OperationCanceledException)
                {
                    // shutting down: the remaining attempts follow at once
                }
            }
            catch (Exception e)
            {
                logger.LogError(e, "Dropped {Count} exposures the store would not take", batch.Count);
                metrics.ExposureDropped(batch.Count);
                batch.Clear();
                return;
            }
        }
    }
}

public sealed record ExposureLogOptions
{
    public const int DefaultCapacity = 100_000;

    /// <summary>Exposures queued at most; beyond it new ones are dropped (and counted).</summary>
    public int Capacity { get; init; } = DefaultCapacity;
    public int BatchSize { get; init; } = 1_000;
    /// <summary>How long a batch gathers before it is written.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromMilliseconds(200);
    public int MaxAttempts { get; init; } = 10;
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(500);
}
