namespace Recommend.Api.Security;

/// <summary>
/// "Recommend:Auth": who may call what. With no keys the host serves anyone, and so only listens on loopback unless
/// <see cref="AllowAnonymous"/> says otherwise.
/// </summary>
public sealed class AuthOptions
{
    public const string Section = "Recommend:Auth";

    public List<ApiKeyOptions> ApiKeys { get; set; } = [];

    /// <summary>Serve without keys on a non-loopback address. Only for networks where something else authenticates.</summary>
    public bool AllowAnonymous { get; set; }

    /// <summary>gRPC server reflection (grpcurl, Postman). Open like health when on; turn it off to hide the schema.</summary>
    public bool EnableReflection { get; set; } = true;

    public RateLimitOptions RateLimit { get; set; } = new();
}

/// <summary>One client's key. Give <see cref="KeyHash"/> (hex SHA-256 of the key) so the configuration holds no secret;
/// <see cref="Key"/> (the key itself) is for development and for Secrets that already hold it.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>Who the client is: shown in audit lines and used as its rate-limit partition. Never the key.</summary>
    public string Name { get; set; } = "";

    public string? KeyHash { get; set; }

    public string? Key { get; set; }

    /// <summary>storefront, catalog, experiments, reports, admin.</summary>
    public List<string> Scopes { get; set; } = [];

    /// <summary>This key's sustained limit; null takes <see cref="RateLimitOptions.RequestsPerSecond"/>.</summary>
    public int? RequestsPerSecond { get; set; }
}

/// <summary>Per-key token buckets, so one client cannot starve the others. Anonymous (loopback) callers are not limited.</summary>
public sealed class RateLimitOptions
{
    public int RequestsPerSecond { get; set; } = 1000;

    /// <summary>How many requests a key may send at once above its sustained rate.</summary>
    public int Burst { get; set; } = 2000;
}
