using Grpc.Health.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Recommend.Api.Composition;
using Recommend.Contracts.V1;

namespace Recommend.Api.Tests;

/// <summary>The real host started on a free loopback port over its own data directory.</summary>
public sealed class RunningHost : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly bool ownsDirectory;

    private RunningHost(WebApplication app, string dataDirectory, bool ownsDirectory)
    {
        this.app = app;
        this.ownsDirectory = ownsDirectory;
        DataDirectory = dataDirectory;
        var addresses = app.Services.GetRequiredService<ListenAddresses>();
        Address = addresses.Grpc;
        HttpAddress = addresses.Http;
        Channel = GrpcChannel.ForAddress(Address);
        Recommendations = new Recommendations.RecommendationsClient(Channel);
        Events = new Events.EventsClient(Channel);
        Catalog = new Catalog.CatalogClient(Channel);
        Experiments = new Experiments.ExperimentsClient(Channel);
    }

    public string DataDirectory { get; }
    /// <summary>The host's services, for tests that look at the store and index directly.</summary>
    public IServiceProvider Services => app.Services;
    /// <summary>The h2c gRPC address.</summary>
    public string Address { get; }
    /// <summary>The HTTP/1.1 address: JSON API, dashboard, metrics.</summary>
    public string HttpAddress { get; }
    public GrpcChannel Channel { get; }
    public Recommendations.RecommendationsClient Recommendations { get; }
    public Events.EventsClient Events { get; }
    public Catalog.CatalogClient Catalog { get; }
    public Experiments.ExperimentsClient Experiments { get; }

    /// <param name="dataDirectory">Reuse a directory to prove restarts keep data; null for a fresh one.</param>
    public static Task<RunningHost> StartAsync(bool seedSample, string? dataDirectory = null, params string[] extraArgs) =>
        StartAsync(seedSample, dataDirectory, waitUntilServing: true, extraArgs);

    public static Task<RunningHost> StartAsync(bool seedSample, string? dataDirectory, bool waitUntilServing, params string[] extraArgs) =>
        StartAsync(seedSample, dataDirectory, waitUntilServing, configure: null, extraArgs);

    /// <param name="configure">Applied to the builder before the host is built (log capture).</param>
    public static async Task<RunningHost> StartAsync(
        bool seedSample, string? dataDirectory, bool waitUntilServing, Action<WebApplicationBuilder>? configure, params string[] extraArgs)
    {
        var owns = dataDirectory is null;
        dataDirectory ??= Directory.CreateTempSubdirectory("recommend-e2e-").FullName;
        string[] args =
        [
            "--Recommend:Listen=http://127.0.0.1:0",
            "--Recommend:HttpListen=http://127.0.0.1:0",
            $"--Recommend:DataDirectory={dataDirectory}",
            $"--Recommend:SeedSample={seedSample}",
            "--Logging:LogLevel:Default=Warning",
            // Training the learned model on the sample costs a core for seconds; the tests that need it turn it on.
            "--Recommend:Training:InHost=false",
            .. extraArgs,
        ];
        var app = RecommendHost.Create(args, configure);
        await app.StartAsync();
        var host = new RunningHost(app, dataDirectory, owns);
        if (waitUntilServing) await host.WaitUntilServingAsync(TimeSpan.FromMinutes(2));
        return host;
    }

    /// <summary>Upserts products as one message of the client stream; returns how many the server upserted.</summary>
    public async Task<int> UpsertProductsAsync(params Product[] products)
    {
        using var call = Catalog.UpsertProducts();
        var request = new UpsertProductsRequest();
        request.Products.AddRange(products);
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        return (await call).Upserted;
    }

    /// <summary>Upserts products as one message, sending <paramref name="apiKey"/> as x-api-key.</summary>
    public async Task<int> UpsertProductsWithKeyAsync(string apiKey, params Product[] products)
    {
        using var call = Catalog.UpsertProducts(new global::Grpc.Core.Metadata { { "x-api-key", apiKey } });
        var request = new UpsertProductsRequest();
        request.Products.AddRange(products);
        await call.RequestStream.WriteAsync(request);
        await call.RequestStream.CompleteAsync();
        return (await call).Upserted;
    }

    /// <summary>An in-stock product with what the tests care about.</summary>
    public static Product Product(string id, string title, double price = 5, string category = "Mugs") =>
        new() { ProductId = id, Title = title, Price = price, Category = category, InStock = true };

    public async Task<HealthCheckResponse.Types.ServingStatus> HealthAsync(string service = "") =>
        (await new Health.HealthClient(Channel).CheckAsync(new HealthCheckRequest { Service = service })).Status;

    /// <summary>The host listens at once but is ready only after the store connected and seeding finished.</summary>
    public async Task WaitUntilServingAsync(TimeSpan timeout)
    {
        var health = new Health.HealthClient(Channel);
        using var deadline = new CancellationTokenSource(timeout);
        while (true)
        {
            var reply = await health.CheckAsync(new HealthCheckRequest(), cancellationToken: deadline.Token);
            if (reply.Status == HealthCheckResponse.Types.ServingStatus.Serving) return;
            await Task.Delay(TimeSpan.FromMilliseconds(100), deadline.Token);
        }
    }

    /// <summary>Stops the host but keeps its data directory, for restart tests.</summary>
    public async Task StopAsync()
    {
        Channel.Dispose();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        if (ownsDirectory) Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>One host seeded with the bundled sample, shared by the read-mostly tests.</summary>
public sealed class SeededHostFixture : IAsyncLifetime
{
    public RunningHost Host { get; private set; } = null!;

    public async Task InitializeAsync() => Host = await RunningHost.StartAsync(seedSample: true);

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class SeededHostCollection : ICollectionFixture<SeededHostFixture>
{
    public const string Name = "seeded host";
}
