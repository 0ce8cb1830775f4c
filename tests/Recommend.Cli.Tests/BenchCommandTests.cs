using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Recommend.Core.Catalog;
using Xunit;

namespace Recommend.Cli.Tests;

/// <summary>`recommend bench` as a process against a host on loopback: one table row, the generator's own CPU included.</summary>
public sealed class BenchCommandTests : IAsyncLifetime
{
    private LoopbackHost _host = null!;

    public async Task InitializeAsync() => _host = await LoopbackHost.StartAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task A_run_prints_its_requests_latencies_and_the_generators_cpu_per_request()
    {
        var result = await CliProcess.RunAsync("", "bench", "--server", _host.Server, "--call", "health", "--rate", "100", "--seconds", "2", "--warmup", "1");

        Assert.True(result.ExitCode == 0, result.Errors);
        var cells = result.Lines[^1].Split('|', StringSplitOptions.TrimEntries)[1..^1];
        // call | rate | requests | errors | p50 | p90 | p95 | p99 | max | sender late | client CPU ms per request
        Assert.Equal(11, cells.Length);
        Assert.Equal(["health", "100", "200", "0"], cells[..4]);
        var numbers = cells[4..].Select(c => double.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        Assert.True(numbers[0] > 0 && numbers[..5].SequenceEqual(numbers[..5].Order()), result.Lines[^1]);
        // Sending, timing and answering 200 calls costs the generator some CPU, and far less than a second per call.
        Assert.InRange(numbers[6], 0.001, 1000);
    }

    [Fact]
    public async Task Requests_are_numbered_from_the_offset_and_the_measured_run_goes_on_from_the_warm_up()
    {
        // Upsert request i rewrites product bench-(i mod 500) as revision i, so the stored titles show which numbers were sent.
        var result = await CliProcess.RunAsync("", "bench", "--server", _host.Server, "--call", "upsert", "--rate", "50", "--seconds", "1", "--warmup", "1", "--offset", "1000");

        Assert.True(result.ExitCode == 0, result.Errors);
        var products = await _host.Services.GetRequiredService<ICatalogStore>()
            .GetProductsAsync(Enumerable.Range(0, 500).Select(i => $"bench-{i}").ToList(), CancellationToken.None);
        var revisions = products.Values.Select(p => int.Parse(p.Title.Split(' ')[^1], CultureInfo.InvariantCulture)).Order();
        // 50 warm-up requests (1000–1049), then 50 measured ones (1050–1099): none sent twice.
        Assert.Equal(Enumerable.Range(1000, 100), revisions);
    }
}
