using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Recommend.Api.Composition;

/// <summary>
/// The host's two plaintext endpoints — h2c for gRPC, HTTP/1.1 for JSON, the dashboard and metrics — and, once bound,
/// the addresses they really listen on (port 0 picks a free one).
/// </summary>
public sealed class ListenAddresses
{
    private ListenOptions? _grpc;
    private ListenOptions? _http;

    public string Grpc => Address(_grpc);

    public string Http => Address(_http);

    internal void Configure(KestrelServerOptions kestrel, string grpcUrl, string httpUrl)
    {
        _grpc = Listen(kestrel, grpcUrl, "Recommend:Listen", HttpProtocols.Http2);
        _http = Listen(kestrel, httpUrl, "Recommend:HttpListen", HttpProtocols.Http1);
    }

    private static ListenOptions Listen(KestrelServerOptions kestrel, string url, string key, HttpProtocols protocols)
    {
        // Parsed by hand: Uri refuses the wildcard hosts ("*", "+") that ASP.NET Core addresses allow.
        var hostAndPort = url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? url["http://".Length..].TrimEnd('/') : "";
        var colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostAndPort[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new OptionsValidationException(key, typeof(RecommendOptions), [$"{key} must be an http://HOST:PORT address, got '{url}'"]);
        var host = hostAndPort[..colon];
        ListenOptions? bound = null;
        void Configure(ListenOptions options)
        {
            options.Protocols = protocols;
            bound = options;
        }
        switch (host)
        {
            case "*" or "+" or "0.0.0.0" or "[::]":
                kestrel.ListenAnyIP(port, Configure);
                break;
            case "localhost":
                kestrel.ListenLocalhost(port, Configure);
                break;
            default:
                if (!IPAddress.TryParse(host.Trim('[', ']'), out var address))
                    throw new OptionsValidationException(key, typeof(RecommendOptions), [$"{key}: '{host}' is not an IP address, localhost or *"]);
                kestrel.Listen(address, port, Configure);
                break;
        }
        return bound!;
    }

    private static string Address(ListenOptions? options) => options?.IPEndPoint is { } endpoint ? $"http://{endpoint}" : "";
}
