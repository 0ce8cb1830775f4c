using System.Security.Cryptography;
using System.Text;

namespace Recommend.Qdrant;

/// <summary>
/// Qdrant point ids must be integers or UUIDs, storefront ids are strings (e.g. "85123A"): derive a name-based
/// UUID (RFC 9562 version 5) so every process maps a product to the same point without a lookup table.
/// </summary>
public static class PointIds
{
    /// <summary>Fixed namespace for Recommend product ids; changing it would orphan every stored point.</summary>
    public static readonly Guid ProductNamespace = new("6f1c2e0a-5b7d-4c39-9a4e-2d8b1f0c7e53");

    public static Guid ForProduct(string productId)
    {
        ArgumentNullException.ThrowIfNull(productId);
        var name = Encoding.UTF8.GetBytes(productId);
        var input = new byte[16 + name.Length];
        ProductNamespace.TryWriteBytes(input, bigEndian: true, out _);
        name.CopyTo(input, 16);

        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input, hash);
        var uuid = hash[..16];
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x50); // version 5
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(uuid, bigEndian: true);
    }
}
