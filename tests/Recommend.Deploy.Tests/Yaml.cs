using YamlDotNet.RepresentationModel;

namespace Recommend.Deploy.Tests;

/// <summary>Null-tolerant navigation over YamlDotNet's representation model.</summary>
public static class Yaml
{
    public static IReadOnlyList<YamlNode> LoadDocuments(string path)
    {
        using var reader = new StreamReader(path);
        var stream = new YamlStream();
        stream.Load(reader);
        // A trailing '---' yields an empty scalar document; it carries nothing to check.
        return stream.Documents.Select(d => d.RootNode).Where(n => n is not YamlScalarNode).ToList();
    }

    public static YamlNode? At(this YamlNode? node, params string[] path)
    {
        foreach (var segment in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(segment), out node))
                return null;
        }
        return node;
    }

    public static string? Str(this YamlNode? node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    public static int? Int(this YamlNode? node, params string[] path) =>
        int.TryParse(node.Str(path), out var value) ? value : null;

    public static IEnumerable<YamlNode> Seq(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlSequenceNode seq ? seq.Children : [];

    public static IEnumerable<string> Strings(this YamlNode? node, params string[] path) =>
        node.Seq(path).OfType<YamlScalarNode>().Select(s => s.Value ?? "");

    /// <summary>A mapping's entries with scalar keys; values stay nodes.</summary>
    public static IEnumerable<KeyValuePair<string, YamlNode>> Entries(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlMappingNode map
            ? map.Children.Select(kv => KeyValuePair.Create(((YamlScalarNode)kv.Key).Value ?? "", kv.Value))
            : [];

    /// <summary>A mapping of scalars (labels, ConfigMap data) as a dictionary.</summary>
    public static Dictionary<string, string> StrMap(this YamlNode? node, params string[] path) =>
        node.Entries(path).ToDictionary(kv => kv.Key, kv => (kv.Value as YamlScalarNode)?.Value ?? "", StringComparer.Ordinal);
}
