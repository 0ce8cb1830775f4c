using Recommend.Core.Errors;

namespace Recommend.Indexing.Sources;

/// <summary>
/// Which sources this server may read: the store always; a file only inside <see cref="ReindexOptions.SourceDirectory"/>
/// and only if it exists, so no caller — gRPC client or CLI worker — can make the server read an arbitrary file.
/// </summary>
public sealed class SourcePolicy(ReindexOptions options)
{
    private const string Field = "source";

    /// <summary>The parsed source, or <see cref="InvalidRequestException"/> naming the "source" field.</summary>
    public ProductSource Admit(string? source)
    {
        ProductSource parsed;
        try
        {
            parsed = ProductSource.Parse(source);
        }
        catch (FormatException e)
        {
            throw new InvalidRequestException(Field, e.Message);
        }
        if (parsed is not ProductSource.File file) return parsed;
        if (options.SourceDirectory is not { Length: > 0 } allowed)
            throw new InvalidRequestException(Field, "file sources are disabled on this server; set Recommend:Reindex:SourceDirectory");
        var root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(allowed)) + Path.DirectorySeparatorChar;
        var path = Path.GetFullPath(file.Path);
        if (!path.StartsWith(root, StringComparison.Ordinal))
            throw new InvalidRequestException(Field, "file sources must lie in the server's Recommend:Reindex:SourceDirectory");
        if (!File.Exists(path)) throw new InvalidRequestException(Field, $"no file {Path.GetRelativePath(root, path)} in the source directory");
        return file with { Path = path };
    }
}
