using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Recommend.Api.Security;

/// <summary>A caller the key ring recognised: its name and what it may call.</summary>
public sealed record ApiClient(string Name, IReadOnlySet<Scope> Scopes, int RequestsPerSecond);

/// <summary>
/// The configured keys, held only as SHA-256 digests. A presented key is hashed once and compared with every digest
/// in constant time, so neither timing nor an early exit tells a caller how close a guess came.
/// </summary>
public sealed class ApiKeyRing
{
    private readonly IReadOnlyList<(byte[] Digest, ApiClient Client)> _keys;

    public ApiKeyRing(AuthOptions options)
    {
        var problems = new List<string>();
        var keys = new List<(byte[], ApiClient)>();
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            var at = $"{AuthOptions.Section}:ApiKeys:{i}";
            if (string.IsNullOrWhiteSpace(key.Name)) problems.Add($"{at}:Name must be set");
            var digest = Digest(key, at, problems);
            var scopes = new HashSet<Scope>();
            foreach (var name in key.Scopes)
            {
                if (Security.Scopes.TryParse(name, out var scope)) scopes.Add(scope);
                else problems.Add($"{at}:Scopes: unknown scope '{name}' (storefront, catalog, experiments, reports, admin)");
            }
            if (scopes.Count == 0) problems.Add($"{at}:Scopes must name at least one scope");
            var rate = key.RequestsPerSecond ?? options.RateLimit.RequestsPerSecond;
            if (rate < 1) problems.Add($"{at}:RequestsPerSecond must be at least 1");
            if (digest is not null) keys.Add((digest, new ApiClient(key.Name.Trim(), scopes, rate)));
        }
        if (options.RateLimit.RequestsPerSecond < 1 || options.RateLimit.Burst < 1)
            problems.Add($"{AuthOptions.Section}:RateLimit: RequestsPerSecond and Burst must be at least 1");
        if (keys.GroupBy(k => k.Item2.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } sameName)
            problems.Add($"{AuthOptions.Section}:ApiKeys: the name '{sameName.Key}' is used twice");
        if (keys.GroupBy(k => Convert.ToHexString(k.Item1)).Any(g => g.Count() > 1))
            problems.Add($"{AuthOptions.Section}:ApiKeys: two entries hold the same key");
        if (problems.Count > 0) throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), problems);
        _keys = keys;
    }

    public bool IsEmpty => _keys.Count == 0;

    public int Count => _keys.Count;

    /// <returns>The client holding <paramref name="presented"/>, or null for an unknown key.</returns>
    public ApiClient? Authenticate(string presented)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), digest);
        ApiClient? found = null;
        foreach (var (known, client) in _keys)
        {
            if (CryptographicOperations.FixedTimeEquals(digest, known)) found = client;
        }
        return found;
    }

    /// <summary>The hex digest to configure as KeyHash for a key (what `printf %s KEY | sha256sum` prints).</summary>
    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static byte[]? Digest(ApiKeyOptions key, string at, List<string> problems)
    {
        var hasHash = !string.IsNullOrWhiteSpace(key.KeyHash);
        var hasKey = !string.IsNullOrEmpty(key.Key);
        if (hasHash == hasKey)
        {
            problems.Add($"{at}: set exactly one of KeyHash (hex SHA-256 of the key) or Key");
            return null;
        }
        if (hasKey)
        {
            if (key.Key!.Length < 16) problems.Add($"{at}:Key must be at least 16 characters");
            return SHA256.HashData(Encoding.UTF8.GetBytes(key.Key));
        }
        var hex = key.KeyHash!.Trim();
        if (hex.StartsWith("sha256:", StringComparison.OrdinalIgnoreCase)) hex = hex["sha256:".Length..];
        if (hex.Length != SHA256.HashSizeInBytes * 2 || !hex.All(Uri.IsHexDigit))
        {
            problems.Add($"{at}:KeyHash must be 64 hex digits (SHA-256)");
            return null;
        }
        return Convert.FromHexString(hex);
    }
}
