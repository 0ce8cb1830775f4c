using System.Security.Cryptography;
using System.Text;

namespace Recommend.Core.Embeddings;

public static class TextHash
{
    /// <summary>Lower-case hex SHA-256 of the UTF-8 text: the embedding cache key and the re-index change detector.</summary>
    public static string Of(string text) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
