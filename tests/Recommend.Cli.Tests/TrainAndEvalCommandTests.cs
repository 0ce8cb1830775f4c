using System.Diagnostics;
using System.Text.Json;
using Recommend.Core.History;
using Recommend.SampleData;
using Recommend.Sqlite;

namespace Recommend.Cli.Tests;

/// <summary><c>recommend train</c> as the CronJob runs it (killed mid-way too), and <c>recommend eval</c> end to end on the bundled sample.</summary>
public sealed class TrainAndEvalCommandTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("train-eval-").FullName;

    private Dictionary<string, string> Environment => new()
    {
        ["Recommend__Store__Provider"] = "sqlite",
        ["Recommend__VectorIndex__Provider"] = "embedded",
        ["Recommend__DataDirectory"] = _data,
        ["Recommend__Embedder__ModelDirectory"] = Path.Combine(_data, "no-model"),
    };

    private string Database => Path.Combine(_data, "recommend.db");

    [Fact]
    public async Task A_training_killed_mid_way_leaves_the_previous_model_live_and_the_next_run_publishes()
    {
        await using (var store = SqliteStore.Open(Database))
        {
            var purchases = new List<UserEvent>();
            await foreach (var purchase in SampleCatalog.PurchasesAsync()) purchases.Add(purchase);
            foreach (var batch in purchases.Chunk(10_000)) await store.RecordEventsAsync(batch, CancellationToken.None);
        }
        var first = await CliProcess.RunAsync(Environment, "", "train", "--progress", "json");
        Assert.True(first.ExitCode == 0, first.Errors);
        using var published = JsonDocument.Parse(first.Lines[^1]);
        Assert.Equal(1, published.RootElement.GetProperty("version").GetInt64());
        var firstProducts = published.RootElement.GetProperty("products").GetInt32();

        await using (var store = SqliteStore.Open(Database))
        {
            await store.RecordEventsAsync([new UserEvent("late-1", EventType.Purchase, "late-customer", "85123A", 1, 2.55, DateTimeOffset.UtcNow, null, "late-order")], CancellationToken.None);
        }
        await KillWhenFittingAsync();

        await using (var store = SqliteStore.Open(Database))
        {
            var live = await store.LoadLiveModelAsync(CancellationToken.None);
            Assert.Equal(1, live!.Info.Version);
            Assert.Equal(firstProducts, live.SourceCount);
        }
        var next = await CliProcess.RunAsync(Environment, "", "train", "--progress", "json");
        Assert.True(next.ExitCode == 0, next.Errors);
        using var republished = JsonDocument.Parse(next.Lines[^1]);
        Assert.Equal(2, republished.RootElement.GetProperty("version").GetInt64());
        Assert.Equal(published.RootElement.GetProperty("purchases").GetInt64() + 1, republished.RootElement.GetProperty("purchases").GetInt64());
    }

    /// <summary>Starts a training and kills the process (SIGKILL) as soon as it reports that it is fitting.</summary>
    private async Task KillWhenFittingAsync()
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in Environment) start.Environment[name] = value;
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Recommend.Cli.dll"), "train", "--progress", "json" }) start.ArgumentList.Add(argument);
        using var process = Process.Start(start)!;
        _ = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
        {
            if (!line.Contains("\"fitting\"", StringComparison.Ordinal)) continue;
            process.Kill(entireProcessTree: true);
            break;
        }
        await process.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, process.ExitCode);
    }

    [Fact]
    public async Task Eval_scores_every_method_in_both_settings_on_the_bundled_sample_and_writes_json_and_a_chart()
    {
        var report = Path.Combine(_data, "eval.json");
        var chart = Path.Combine(_data, "eval.svg");

        var result = await CliProcess.RunAsync(Environment, "", "eval", "--data", "sample", "--output", report, "--chart", chart);

        Assert.True(result.ExitCode == 0, result.Errors);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(report));
        var root = json.RootElement;
        Assert.Equal("sample", root.GetProperty("dataset").GetString());
        Assert.True(root.GetProperty("newItemsCustomers").GetInt32() > 100);
        var methods = root.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(["popularity", "item-kNN", "EASE", "repeat purchases", "co-purchase", "vector similarity", "trending", "learned model", "default"],
            methods.Select(m => m.GetProperty("method").GetString()));
        foreach (var method in methods)
        {
            foreach (var setting in new[] { "newItems", "buyAgain" })
            {
                var score = method.GetProperty(setting);
                foreach (var metric in new[] { "ndcg", "recall", "precision", "mrr", "hitRate", "coverage" })
                    Assert.InRange(score.GetProperty(metric).GetDouble(), 0, 1);
            }
        }
        // Better than popularity, as any collaborative method must be on real baskets.
        double Ndcg(string name) => methods.Single(m => m.GetProperty("method").GetString() == name).GetProperty("newItems").GetProperty("ndcg").GetDouble();
        Assert.True(Ndcg("EASE") > Ndcg("popularity"));
        Assert.True(Ndcg("default") > Ndcg("popularity"));
        Assert.Contains(result.Lines, line => line.Contains("learned model v1", StringComparison.Ordinal));
        Assert.Contains(result.Lines, line => line.Contains("NDCG@10", StringComparison.Ordinal));
        Assert.Contains("<svg", await File.ReadAllTextAsync(chart));
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
