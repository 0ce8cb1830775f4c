using System.CommandLine;
using System.Text.Json;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Recommend.Composition;
using Recommend.Core.Catalog;
using Recommend.Training;

namespace Recommend.Cli;

/// <summary>
/// <c>recommend train</c>: trains the learned item-to-item model once from the configured store's history and publishes
/// it (the Kubernetes CronJob). Servers pick the new version up within Recommend:Training:CheckInterval. A crash or a
/// failure before the publish leaves the previous model live.
/// </summary>
internal static class TrainCommand
{
    private static readonly JsonSerializerOptions LineJson = new(JsonSerializerDefaults.Web);

    public static Command Create()
    {
        var progress = new Option<string>("--progress") { Description = "text, or json: one line per stage and a last line with the model", DefaultValueFactory = _ => "text" };
        progress.AcceptOnlyFromAmong("text", "json");
        var command = new Command("train", "Train and publish the learned item-to-item model from the store's purchase history (offline, in this process)") { progress };
        command.SetAction(async (r, ct) =>
        {
            var json = r.GetValue(progress) == "json";
            var builder = Host.CreateApplicationBuilder();
            // An offline job: the solver may take every core unless configured otherwise (the host leaves one to serving).
            builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
            {
                InitialData = new Dictionary<string, string?> { ["Recommend:Training:Threads"] = $"{Environment.ProcessorCount}" },
            });
            builder.Logging.AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.Services.AddRecommendBackends(builder.Configuration);
            using var host = builder.Build();
            await host.StartAsync(ct);
            try
            {
                await host.Services.GetRequiredService<IStoreReadiness>().WhenReadyAsync(ct);
                var stages = new StageLines(stage =>
                    Console.WriteLine(json ? JsonSerializer.Serialize(new { stage = stage.ToString().ToLowerInvariant() }, LineJson) : stage.ToString().ToLowerInvariant()));
                var info = await host.Services.GetRequiredService<ItemModelTrainer>().TrainAsync(stages, ct);
                if (info is null)
                {
                    await Console.Error.WriteLineAsync("train: the history holds purchases of fewer than two products; nothing to learn yet");
                    return 1;
                }
                Console.WriteLine(json
                    ? JsonSerializer.Serialize(info, LineJson)
                    : $"published model v{info.Version}: {info.Method}; {info.Products} products, {info.Neighbours} neighbours, {info.Purchases} purchases, {info.TrainingTime.TotalSeconds:F1} s");
                return 0;
            }
            finally
            {
                await host.StopAsync(CancellationToken.None);
            }
        });
        return command;
    }

    /// <summary>Written as reported (Progress&lt;T&gt; would post to the thread pool): stage lines come out in order, before the result.</summary>
    private sealed class StageLines(Action<ItemModelTrainer.Stage> write) : IProgress<ItemModelTrainer.Stage>
    {
        public void Report(ItemModelTrainer.Stage value) => write(value);
    }
}
