using System.Text.Json;
using Recommend.Core.Catalog;
using Recommend.Sqlite;

namespace Recommend.Cli.Tests;

/// <summary><c>recommend reindex worker</c> as a Kubernetes pod runs it: configured by environment variables only.</summary>
public sealed class ReindexWorkerCommandTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("reindex-worker-").FullName;

    private Dictionary<string, string> Environment => new()
    {
        ["Recommend__Store__Provider"] = "sqlite",
        ["Recommend__VectorIndex__Provider"] = "embedded",
        ["Recommend__DataDirectory"] = _data,
        ["Recommend__Embedder__ModelDirectory"] = Path.Combine(_data, "no-model"),
    };

    [Fact]
    public async Task A_single_worker_re_indexes_the_configured_store_and_reports_json_progress()
    {
        await using (var store = SqliteStore.Open(Path.Combine(_data, "recommend.db")))
        {
            await store.UpsertProductsAsync(Enumerable.Range(0, 50).Select(i =>
                new Product($"p{i}", $"enamel mug number {i}", "", "mugs", 2 + i, true, Product.NoAttributes)).ToList(), CancellationToken.None);
        }

        var result = await CliProcess.RunAsync(Environment, "", "reindex", "worker", "--mode", "full", "--shard-index", "0", "--shard-count", "1", "--progress", "json");

        Assert.True(result.ExitCode == 0, result.Errors);
        using var last = JsonDocument.Parse(result.Lines[^1]);
        Assert.Equal("Succeeded", last.RootElement.GetProperty("state").GetString());
        Assert.Equal(50, last.RootElement.GetProperty("processed").GetInt64());
        Assert.Equal("Succeeded", last.RootElement.GetProperty("shardState").GetString());
    }

    [Fact]
    public async Task Several_workers_are_refused_on_the_embedded_index_with_the_reason()
    {
        var result = await CliProcess.RunAsync(Environment, "", "reindex", "worker", "--mode", "full", "--shard-index", "1", "--shard-count", "4");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("embedded vector index", result.Errors);
        Assert.Contains("qdrant", result.Errors);
    }

    public void Dispose() => Directory.Delete(_data, recursive: true);
}
