using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recommend.Composition;
using Recommend.Core.Catalog;
using Recommend.Indexing;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sharding;
using Recommend.Indexing.Sources;

namespace Recommend.Cli;

/// <summary>
/// <c>recommend reindex worker</c>: one offline worker of a sharded re-index (a Kubernetes Indexed Job pod). It reads the
/// server's configuration (environment, appsettings.json) and composes the same store, vector index and embedder,
/// then runs its shard of the one job the workers share; it exits 0 only when that job succeeded.
/// </summary>
internal static class ReindexWorkerCommand
{
    private static readonly JsonSerializerOptions LineJson = new(JsonSerializerDefaults.Web);

    public static Command Create(Option<string> progress)
    {
        var mode = new Option<string>("--mode") { Description = "full (new version, verified, then switched) or incremental", Required = true };
        mode.AcceptOnlyFromAmong("full", "incremental");
        var shardIndex = new Option<int>("--shard-index") { Description = "This worker's shard, 0 … shard-count − 1", Required = true };
        var shardCount = new Option<int>("--shard-count") { Description = "Number of workers (shards)", Required = true };
        var jobId = new Option<string?>("--job-id") { Description = "Shared by the workers of one run (e.g. the Kubernetes Job's uid); default: join the unfinished sharded job" };
        var dimension = new Option<int>("--dimension") { Description = "Dimension of the new version (Matryoshka); 0 = the configured one" };
        var maxBadRows = new Option<int>("--max-bad-rows") { Description = "Bad source rows tolerated per shard (-1 = unlimited)" };
        var worker = new Command("worker", "Run one shard of a sharded re-index in this process (Postgres + Qdrant when shard-count > 1)")
        {
            mode, shardIndex, shardCount, jobId, dimension, maxBadRows, progress,
        };
        worker.SetAction(async (r, ct) =>
        {
            var request = new ReindexRequest(r.GetValue(mode) == "full" ? ReindexMode.Full : ReindexMode.Incremental,
                ProductSource.StoreName, r.GetValue(dimension), MaxBadRows: r.GetValue(maxBadRows));
            var assignment = new ShardAssignment(request, r.GetValue(shardIndex), r.GetValue(shardCount), r.GetValue(jobId));
            return await RunAsync(assignment, r.GetValue(progress) == "json", ct);
        });
        return worker;
    }

    private static async Task<int> RunAsync(ShardAssignment assignment, bool jsonProgress, CancellationToken ct)
    {
        assignment.Validate();
        var builder = Host.CreateApplicationBuilder();
        // stdout carries progress lines only.
        builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
        var options = builder.Services.AddRecommendBackends(builder.Configuration);
        if (assignment.ShardCount > 1 && options.VectorIndex.Provider.Equals("embedded", StringComparison.OrdinalIgnoreCase))
        {
            await Console.Error.WriteLineAsync(
                "reindex worker: the embedded vector index is locked by one process, so it cannot be shared by several workers; "
                + "use --shard-count 1, or run sharded workers against Qdrant (Recommend__VectorIndex__Provider=qdrant) and Postgres.");
            return 2;
        }
        using var host = builder.Build();
        await host.StartAsync(ct);
        try
        {
            await host.Services.GetRequiredService<IStoreReadiness>().WhenReadyAsync(ct);
            var worker = host.Services.GetRequiredService<ShardedReindexWorker>();
            var job = await worker.JoinAsync(assignment, ct);
            using var stopReporting = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var reporting = ReportAsync(host.Services.GetRequiredService<IReindexJobStore>(), job.Id, assignment.ShardIndex, jsonProgress, options.Reindex.WatchInterval, stopReporting.Token);
            var outcome = await worker.RunAsync(job, assignment.ShardIndex, ct);
            await stopReporting.CancelAsync();
            await reporting;
            await PrintAsync(host.Services.GetRequiredService<IReindexJobStore>(), outcome.Id, assignment.ShardIndex, jsonProgress, CancellationToken.None);
            if (outcome.State != ReindexState.Succeeded) await Console.Error.WriteLineAsync($"reindex job {outcome.Id} ended {outcome.State}: {outcome.Run.Error}");
            return outcome.State == ReindexState.Succeeded ? 0 : 1;
        }
        catch (ReindexJobRunningException e)
        {
            await Console.Error.WriteLineAsync($"reindex worker: {e.Message}; it is not a sharded job this worker can join");
            return 1;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>One line per change of the job or this worker's shard until stopped.</summary>
    private static async Task ReportAsync(IReindexJobStore jobs, string jobId, int shardIndex, bool json, TimeSpan interval, CancellationToken ct)
    {
        string? last = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var line = await PrintAsync(jobs, jobId, shardIndex, json, ct, unlessEqualTo: last);
                last = line;
                await Task.Delay(interval, ct);
            }
        }
        catch (OperationCanceledException)
        {
            // the run ended
        }
    }

    private static async Task<string> PrintAsync(IReindexJobStore jobs, string jobId, int shardIndex, bool json, CancellationToken ct, string? unlessEqualTo = null)
    {
        var job = await jobs.GetJobAsync(jobId, ct);
        var shard = (await jobs.GetShardsAsync(jobId, ct)).FirstOrDefault(s => s.Index == shardIndex);
        var line = json
            ? JsonSerializer.Serialize(new
            {
                jobId, state = job?.State.ToString(), total = job?.Total, processed = job?.Run.Counters.Processed,
                embedded = job?.Run.Counters.Embedded, cached = job?.Run.Counters.Cached,
                shard = shardIndex, shardState = shard?.Run.State.ToString(), shardPhase = shard?.Run.Phase.ToString(), shardProcessed = shard?.Run.Counters.Processed,
                targetVersion = job?.TargetVersion, error = job?.Run.Error,
            }, LineJson)
            : $"{jobId} {job?.State} {job?.Run.Counters.Processed}/{job?.Total} · shard {shardIndex} {shard?.Run.State} {shard?.Run.Phase} {shard?.Run.Counters.Processed} processed";
        if (line != unlessEqualTo) Console.WriteLine(line);
        return line;
    }
}
