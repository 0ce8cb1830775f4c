using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Recommend.Core.Catalog;
using Recommend.Core.History;
using Xunit;

namespace Recommend.Cli.Tests;

/// <summary>`recommend generate` as a process: deterministic for a seed, shaped like a shop, and importable as written.</summary>
public sealed class GenerateCommandTests : IAsyncLifetime
{
    private readonly string _root = Directory.CreateTempSubdirectory("recommend-generate-").FullName;
    private LoopbackHost _host = null!;

    public async Task InitializeAsync() => _host = await LoopbackHost.StartAsync();

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task The_same_seed_writes_the_same_files_and_they_import_without_a_rejected_row()
    {
        var first = await GenerateAsync("a", seed: 7);
        var again = await GenerateAsync("b", seed: 7);
        var other = await GenerateAsync("c", seed: 8);

        Assert.Equal(Hashes(first), Hashes(again));
        Assert.NotEqual(Hashes(first), Hashes(other));

        var lines = ReadLines(Path.Combine(first, "history.csv.gz")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(20_000, lines.Count);
        var purchases = lines.Where(l => l[1] == "purchase").ToList();
        Assert.InRange(purchases.Count, 2_000, 10_000);
        Assert.True(purchases.GroupBy(l => l[5]).Any(order => order.Count() > 1), "no basket has more than one product");
        // Zipf popularity: the 1 % most viewed products draw far more than 1 % of the events.
        var perProduct = lines.GroupBy(l => l[3]).Select(g => g.Count()).OrderDescending().ToList();
        Assert.True(perProduct.Take(20).Sum() > 0.08 * lines.Count, $"top 20 products have {perProduct.Take(20).Sum()} of {lines.Count} events");

        var products = await CliProcess.RunAsync("", "import", "products", Path.Combine(first, "products.jsonl.gz"), "--server", _host.Server, "--progress", "json");
        var history = await CliProcess.RunAsync("", "import", "history", Path.Combine(first, "history.csv.gz"), "--server", _host.Server, "--progress", "json");

        Assert.True(products.ExitCode == 0, products.Errors);
        Assert.True(history.ExitCode == 0, history.Errors);
        Assert.DoesNotContain("rejected line", products.Errors + history.Errors);
        Assert.Equal(2_000, await _host.Services.GetRequiredService<ICatalogStore>().CountProductsAsync(default));
        Assert.Equal(purchases.Count, await _host.Services.GetRequiredService<IHistoryStore>().CountPurchasesAsync(default));
    }

    private async Task<string> GenerateAsync(string name, int seed)
    {
        var directory = Path.Combine(_root, name);
        var result = await CliProcess.RunAsync("", "generate", "--products", "2000", "--events", "20000", "--seed", $"{seed}", "--output", directory);
        Assert.True(result.ExitCode == 0, result.Errors);
        return directory;
    }

    private static string[] Hashes(string directory) =>
        new[] { "products.jsonl.gz", "history.csv.gz" }.Select(f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Path.Combine(directory, f))))).ToArray();

    private static IEnumerable<string> ReadLines(string path)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(path), CompressionMode.Decompress));
        while (reader.ReadLine() is { } line) yield return line;
    }
}
