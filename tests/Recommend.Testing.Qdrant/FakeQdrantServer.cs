using System.Collections.Concurrent;
using System.Net;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Recommend.Testing.Qdrant;

/// <summary>
/// An in-process server speaking Qdrant's gRPC protocol on a free loopback port: real Kestrel, HTTP/2 only so a
/// plain http:// client gets h2c (there is no TLS to negotiate HTTP/2 with).
/// </summary>
public sealed class FakeQdrantServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedRequest> _log;

    private FakeQdrantServer(WebApplication app, FakeQdrantState state, ConcurrentQueue<ReceivedRequest> log, Uri url)
    {
        _app = app;
        State = state;
        _log = log;
        Url = url;
    }

    public Uri Url { get; }
    public FakeQdrantState State { get; }

    /// <summary>Accepted requests in arrival order; method names as "qdrant.Points/Upsert".</summary>
    public IReadOnlyList<ReceivedRequest> Requests => _log.ToArray();

    public IReadOnlyList<T> RequestsOf<T>() => Requests.Select(r => r.Message).OfType<T>().ToList();

    public static async Task<FakeQdrantServer> StartAsync(string? apiKey = null)
    {
        var state = new FakeQdrantState();
        var log = new ConcurrentQueue<ReceivedRequest>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton<IServiceMethodProvider<QdrantProtocolService>>(new QdrantMethods(state, apiKey, log));
        var app = builder.Build();
        app.MapGrpcService<QdrantProtocolService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new FakeQdrantServer(app, state, log, new Uri(address));
    }

    /// <summary>Stops listening, as a crashed or partitioned Qdrant would look to the client.</summary>
    public Task StopAsync() => _app.StopAsync();

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
