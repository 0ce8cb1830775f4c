namespace Recommend.Api.Security;

/// <summary>
/// "Recommend:Tls": a PEM certificate and key. When set, the gRPC endpoint speaks HTTP/2 over TLS (ALPN h2) instead of
/// h2c and the HTTP endpoint serves HTTPS; both addresses keep the host and port of Listen and HttpListen.
/// </summary>
public sealed class TlsOptions
{
    public const string Section = "Recommend:Tls";

    public string? CertificatePath { get; set; }

    /// <summary>The private key's PEM file; empty when the certificate file holds the key too.</summary>
    public string? KeyPath { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(CertificatePath);
}
