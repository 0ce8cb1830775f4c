using System.CommandLine;
using Google.Protobuf;
using Grpc.Core;
using Recommend.Contracts.V1;
using Spectre.Console;

namespace Recommend.Cli;

/// <summary>
/// <c>recommend reindex start|watch|cancel|status|rollback</c>: drives the server's re-indexing jobs (<c>worker</c>: see
/// <see cref="ReindexWorkerCommand"/>). <c>--progress json</c>
/// prints one JSON object per progress message (cron, Kubernetes Jobs); <c>bar</c> shows a live progress bar. Waiting
/// commands exit non-zero unless the job succeeded.
/// </summary>
internal static class ReindexCommands
{
    private static readonly JsonFormatter LineJson = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static Command Create()
    {
        var server = ServerConnection.ServerOption();
        var progress = new Option<string>("--progress") { Description = "bar (live progress bar) or json (one JSON object per line)", DefaultValueFactory = _ => "bar" };
        progress.AcceptOnlyFromAmong("bar", "json");

        var mode = new Option<string>("--mode") { Description = "full (new version, verified, then switched) or incremental", Required = true };
        mode.AcceptOnlyFromAmong("full", "incremental");
        var source = new Option<string>("--source") { Description = "store, or file:PATH (a JSONL or CSV catalog export on the server)", DefaultValueFactory = _ => "store" };
        var dimension = new Option<int>("--dimension") { Description = "Dimension of the new version (Matryoshka); 0 = the configured one" };
        var model = new Option<string?>("--model") { Description = "Expected model id; refused unless the server has it loaded" };
        var maxBadRows = new Option<int>("--max-bad-rows") { Description = "Bad source rows tolerated (-1 = unlimited)" };
        var wait = new Option<bool>("--wait") { Description = "Follow the job to its end; exit non-zero unless it succeeds" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Start nothing; print what the run would add and delete" };
        var allowMassDeletion = new Option<bool>("--allow-mass-deletion") { Description = "Run even if the file would delete more than the server's MaxDeletionShare of the catalog" };
        var start = new Command("start", "Start a re-indexing job") { server, mode, source, dimension, model, maxBadRows, wait, progress, dryRun, allowMassDeletion };
        start.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var client = new Catalog.CatalogClient(channel);
            var reply = await client.StartReindexAsync(new StartReindexRequest
            {
                Mode = r.GetValue(mode) == "full" ? ReindexMode.Full : ReindexMode.Incremental,
                Source = r.GetValue(source)!,
                Dimension = r.GetValue(dimension),
                ModelId = r.GetValue(model) ?? "",
                MaxBadRows = r.GetValue(maxBadRows),
                DryRun = r.GetValue(dryRun),
                AllowMassDeletion = r.GetValue(allowMassDeletion),
            }, cancellationToken: ct);
            if (reply.Preview is { } preview)
            {
                Console.WriteLine(LineJson.Format(preview));
                return 0;
            }
            if (!r.GetValue(wait))
            {
                Console.WriteLine(reply.JobId);
                return 0;
            }
            return await FollowAsync(client, reply.JobId, r.GetValue(progress)!, ct);
        });

        var jobId = new Argument<string>("job-id");
        var watch = new Command("watch", "Follow a job to its end") { jobId, server, progress };
        watch.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            return await FollowAsync(new Catalog.CatalogClient(channel), r.GetValue(jobId)!, r.GetValue(progress)!, ct);
        });

        var cancel = new Command("cancel", "Cancel a job (a full run's half-built version is deleted)") { jobId, server };
        cancel.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var reply = await new Catalog.CatalogClient(channel).CancelReindexAsync(new CancelReindexRequest { JobId = r.GetValue(jobId) }, cancellationToken: ct);
            Console.WriteLine(LineJson.Format(reply));
            return reply.State == ReindexState.Cancelled ? 0 : 1;
        });

        var json = new Option<bool>("--json") { Description = "Print the raw response as JSON" };
        var status = new Command("status", "Live index version, kept versions and the running job") { server, json };
        status.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            Show(await new Catalog.CatalogClient(channel).GetIndexStatusAsync(new GetIndexStatusRequest(), cancellationToken: ct), r.GetValue(json));
            return 0;
        });

        var version = new Option<string?>("--version") { Description = "Version to make live; default the newest one older than the live one" };
        var rollback = new Command("rollback", "Make a previous index version live again") { server, version, json };
        rollback.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            Show(await new Catalog.CatalogClient(channel).RollbackIndexAsync(new RollbackIndexRequest { Version = r.GetValue(version) ?? "" }, cancellationToken: ct), r.GetValue(json));
            return 0;
        });

        return new Command("reindex", "Re-index the catalog into the vector index") { start, watch, cancel, status, rollback, ReindexWorkerCommand.Create(progress) };
    }

    /// <summary>Streams the job's progress until its terminal state; 0 only when it succeeded.</summary>
    private static async Task<int> FollowAsync(Catalog.CatalogClient client, string jobId, string style, CancellationToken ct)
    {
        using var call = client.WatchReindex(new WatchReindexRequest { JobId = jobId }, cancellationToken: ct);
        var last = new ReindexProgress { JobId = jobId };
        if (style == "json")
        {
            await foreach (var update in call.ResponseStream.ReadAllAsync(ct))
            {
                Console.WriteLine(LineJson.Format(update));
                last = update;
            }
        }
        else
        {
            await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async context =>
                {
                    var task = context.AddTask(Markup.Escape(jobId), maxValue: 1);
                    await foreach (var update in call.ResponseStream.ReadAllAsync(ct))
                    {
                        last = update;
                        task.MaxValue = Math.Max(1, update.Total);
                        task.Value = update.Processed;
                        task.Description = Markup.Escape(
                            $"{update.State.ToString().ToLowerInvariant()} {update.Processed}/{update.Total} · {update.Embedded} embedded · {update.Cached} cached · {update.RatePerSecond:F0}/s");
                    }
                });
        }
        foreach (var error in last.Errors) Console.Error.WriteLine($"line {error.Line} {error.ProductId}: {error.Message}");
        if (last.State != ReindexState.Succeeded) Console.Error.WriteLine($"reindex job {jobId} ended {last.State}: {last.Error}");
        return last.State == ReindexState.Succeeded ? 0 : 1;
    }

    private static void Show(IndexStatus status, bool json)
    {
        if (json)
        {
            Console.WriteLine(LineJson.Format(status));
            return;
        }
        var table = new Table().AddColumns("version", "model", "dim", "points", "search", "built", "live");
        foreach (var version in new[] { status.Live }.Where(v => v is not null).Concat(status.Previous))
        {
            var search = version.SearchIndex switch
            {
                SearchIndexState.Ready => $"index ({version.IndexedCount})",
                SearchIndexState.Building => "exact, index building",
                SearchIndexState.OnDisk => "on disk",
                SearchIndexState.Exact => "exact",
                _ => "",
            };
            table.AddRow(Markup.Escape(version.Name), Markup.Escape(version.ModelId), $"{version.Dimension}", $"{version.PointCount}", search,
                $"{version.BuiltAt?.ToDateTimeOffset():u}", version.Live ? "yes" : "");
        }
        AnsiConsole.Write(table);
        if (status.ActiveJob is { } job)
            AnsiConsole.MarkupLine(Markup.Escape($"running: {job.JobId} {job.State} {job.Processed}/{job.Total}"));
    }
}
