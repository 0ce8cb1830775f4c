using Recommend.Core.Errors;

namespace Recommend.Indexing.Sources;

/// <summary>
/// Which sources this server may read: the store always; a file only inside <see cref="ReindexOptions.SourceDirectory"/>
/// and only if it exists and no symbolic link leads to it, so no caller — gRPC client or CLI worker — can make the server read an arbitrary file.
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
        if (LinksOut(root, path)) throw new InvalidRequestException(Field, "file sources must not be, or lie under, a symbolic link");
        return file with { Path = path };
    }

    /// <summary>Whether the file or a directory between it and the root is a symbolic link, which could point anywhere.</summary>
    private static bool LinksOut(string root, string path)
    {
        for (FileSystemInfo? entry = new FileInfo(path); entry is not null && entry.FullName.Length >= root.Length; entry = Parent(entry))
        {
            if (entry.LinkTarget is not null) return true;
        }
        return false;
    }

    private static DirectoryInfo? Parent(FileSystemInfo entry) => entry is FileInfo f ? f.Directory : ((DirectoryInfo)entry).Parent;
}
