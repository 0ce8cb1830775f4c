using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace Recommend.Api.Composition;

/// <summary>
/// The host's two endpoints — gRPC (h2c, or HTTP/2 over TLS) and HTTP/1.1 for JSON, the dashboard and metrics — and,
/// once bound, the addresses they really listen on (port 0 picks a free one).
/// </summary>
public sealed class ListenAddresses
{
    private ListenOptions? _grpc;
    private ListenOptions? _http;

    public string Grpc => Address(_grpc);

    public string Http => Address(_http);

    /// <summary>Whether the endpoints serve TLS; the start-up log says so, and the addresses start with https://.</summary>
    public bool Tls { get; private set; }

    internal void Configure(KestrelServerOptions kestrel, string grpcUrl, string httpUrl, X509Certificate2? certificate)
    {
        Tls = certificate is not null;
        _grpc = Listen(kestrel, grpcUrl, "Recommend:Listen", HttpProtocols.Http2, certificate);
        _http = Listen(kestrel, httpUrl, "Recommend:HttpListen", HttpProtocols.Http1, certificate);
    }

    /// <summary>Whether only this machine can reach the address (127.0.0.0/8, ::1, localhost).</summary>
    public static bool IsLoopback(string url, string key)
    {
        var (host, _) = Parse(url, key);
        return host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));
    }

    private static ListenOptions Listen(KestrelServerOptions kestrel, string url, string key, HttpProtocols protocols, X509Certificate2? certificate)
    {
        var (host, port) = Parse(url, key);
        ListenOptions? bound = null;
        void Configure(ListenOptions options)
        {
            options.Protocols = protocols;
            if (certificate is not null) options.UseHttps(certificate);
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

    /// <summary>Parsed by hand: Uri refuses the wildcard hosts ("*", "+") that ASP.NET Core addresses allow. The
    /// scheme is http:// either way; TLS is switched on by Recommend:Tls, not by the address.</summary>
    private static (string Host, int Port) Parse(string url, string key)
    {
        var hostAndPort = url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? url["http://".Length..].TrimEnd('/')
            : url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? url["https://".Length..].TrimEnd('/')
            : "";
        var colon = hostAndPort.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(hostAndPort[(colon + 1)..], out var port) || port is < 0 or > 65535)
            throw new OptionsValidationException(key, typeof(RecommendOptions), [$"{key} must be an http://HOST:PORT address, got '{url}'"]);
        return (hostAndPort[..colon], port);
    }

    private string Address(ListenOptions? options) => options?.IPEndPoint is { } endpoint ? $"{(Tls ? "https" : "http")}://{endpoint}" : "";
}
