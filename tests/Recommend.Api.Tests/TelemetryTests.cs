using Grpc.Core;
using Recommend.Contracts.V1;

namespace Recommend.Api.Tests;

/// <summary>What Prometheus scrapes from /metrics after real calls: RPC durations by method and status, the service's own gauges and counters.</summary>
[Collection(TelemetryCollection.Name)]
public sealed class TelemetryTests
{
    [Fact]
    public async Task Metrics_follow_the_rpc_conventions_and_never_label_by_product_or_user()
    {
        await using var host = await RunningHost.StartAsync(seedSample: false, dataDirectory: null, "--Recommend:Telemetry:GaugeInterval=00:00:00.200");
        await host.UpsertProductsAsync(RunningHost.Product("sku-telemetry-1", "RED SPOTTY MUG"), RunningHost.Product("sku-telemetry-2", "RED SPOTTY CUP"));
        await host.Recommendations.SimilarProductsAsync(new SimilarProductsRequest { ProductId = "sku-telemetry-1", UserId = "user-telemetry-1" });
        await Assert.ThrowsAsync<RpcException>(async () => await host.Catalog.GetProductAsync(new GetProductRequest { ProductId = "sku-telemetry-missing" }));
        using var http = new HttpClient { BaseAddress = new Uri(host.HttpAddress) };

        // Gauges are sampled off the request path; wait for a sample taken after the writes. The budget is generous because
        // this class shares two cores with the fuzzing hosts when the whole suite runs.
        var sampled = new System.Text.RegularExpressions.Regex("recommend_catalog_products\\{[^}]*\\} 2");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        var metrics = await http.GetStringAsync("/metrics");
        while (!sampled.IsMatch(metrics) && waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(200);
            metrics = await http.GetStringAsync("/metrics");
        }
        Assert.True(sampled.IsMatch(metrics), "no catalog sample after the writes; the service's gauges read:\n"
            + string.Join('\n', metrics.Split('\n').Where(line => line.StartsWith("recommend_", StringComparison.Ordinal))));

        Assert.Contains("# TYPE rpc_server_call_duration_seconds histogram", metrics);
        Assert.Matches("rpc_server_call_duration_seconds_count\\{[^}]*rpc_method=\"recommend.v1.Recommendations/SimilarProducts\"[^}]*rpc_response_status_code=\"OK\"", metrics);
        Assert.Matches("rpc_server_call_duration_seconds_count\\{[^}]*rpc_method=\"recommend.v1.Catalog/GetProduct\"[^}]*rpc_response_status_code=\"NOT_FOUND\"", metrics);
        Assert.Contains("rpc_system_name=\"grpc\"", metrics);
        Assert.Matches("recommend_embedder_batches_total\\{[^}]*embedder=\"hashing-fallback\"", metrics);
        Assert.Matches("recommend_catalog_products\\{[^}]*\\} 2", metrics);
        Assert.Matches("recommend_index_vectors\\{[^}]*\\} 2", metrics);
        Assert.Matches("recommend_reindex_active_jobs\\{[^}]*\\} 0", metrics);
        Assert.Contains("recommend_experiment_exposure_queue_depth", metrics);
        Assert.DoesNotContain("sku-telemetry", metrics);
        Assert.DoesNotContain("user-telemetry", metrics);
    }
}

/// <summary>
/// Runs alone, after the parallel classes. Every in-process host's OpenTelemetry listener subscribes to every "Recommend.*" meter
/// in the process, so a host's per-instance meters (ServiceMetrics, ExperimentMetrics) share one metric stream with another
/// host's; when that other host is disposed, OpenTelemetry retires the shared stream and this host's gauges vanish from its
/// scrape. One host per process, as in production, never meets this.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TelemetryCollection
{
    public const string Name = "telemetry, alone";
}
