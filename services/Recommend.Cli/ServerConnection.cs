using System.CommandLine;
using Grpc.Net.Client;

namespace Recommend.Cli;

/// <summary>The --server option every networked command shares, and the channel it opens.</summary>
internal static class ServerConnection
{
    public const string ApiKeyVariable = "RECOMMEND_API_KEY";

    public static Option<string> ServerOption() => new("--server", "-s")
    {
        Description = $"Server address: http:// for h2c, https:// for TLS. The API key, when the server requires one, comes from {ApiKeyVariable}",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RECOMMEND_SERVER") ?? "http://127.0.0.1:5080",
    };

    /// <summary>A channel that sends $RECOMMEND_API_KEY as x-api-key on every call (h2c too, unlike call credentials).</summary>
    public static GrpcChannel Open(string address)
    {
        var key = Environment.GetEnvironmentVariable(ApiKeyVariable);
        return string.IsNullOrEmpty(key)
            ? GrpcChannel.ForAddress(address)
            : GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpHandler = new ApiKeyHandler(key) { InnerHandler = new SocketsHttpHandler() } });
    }

    private sealed class ApiKeyHandler(string key) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", key);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
