using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Recommend.Api.Composition;

namespace Recommend.Cli.Tests;

/// <summary>The real host in the test process, empty, on free loopback ports over its own data directory.</summary>
internal sealed class LoopbackHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackHost(WebApplication app, string dataDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
        Server = app.Services.GetRequiredService<ListenAddresses>().Grpc;
    }

    public string DataDirectory { get; }

    /// <summary>The host's services, to check what an import stored.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>The gRPC address to pass as --server.</summary>
    public string Server { get; }

    public static async Task<LoopbackHost> StartAsync(params string[] extraArgs)
    {
        var data = Directory.CreateTempSubdirectory("recommend-cli-").FullName;
        var app = RecommendHost.Create([
            "--Recommend:Listen=http://127.0.0.1:0", "--Recommend:HttpListen=http://127.0.0.1:0", $"--Recommend:DataDirectory={data}",
            "--Recommend:SeedSample=false", "--Recommend:Training:InHost=false", "--Logging:LogLevel:Default=Warning", .. extraArgs,
        ]);
        await app.StartAsync();
        return new LoopbackHost(app, data);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(DataDirectory, recursive: true);
    }
}
