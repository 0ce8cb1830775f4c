using Recommend.Core.Errors;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing.Tests.Sources;

public class SourcePolicyTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("policy-").FullName;
    private readonly string _feeds;

    public SourcePolicyTests()
    {
        _feeds = Directory.CreateDirectory(Path.Combine(_root, "feeds")).FullName;
        File.WriteAllText(Path.Combine(_feeds, "catalog.jsonl"), "");
        File.WriteAllText(Path.Combine(_root, "secret.jsonl"), "");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private SourcePolicy Policy(string? directory) => new(new ReindexOptions { SourceDirectory = directory });

    private static InvalidRequestException Refused(Action admit)
    {
        var error = Assert.Throws<InvalidRequestException>(admit);
        Assert.Equal("source", error.Field);
        return error;
    }

    [Fact]
    public void The_store_is_always_a_source()
    {
        Assert.IsType<ProductSource.Store>(Policy(null).Admit("store"));
    }

    [Fact]
    public void Without_a_source_directory_no_file_is_read()
    {
        Assert.Contains("SourceDirectory", Refused(() => Policy(null).Admit($"file:{_feeds}/catalog.jsonl")).Message);
    }

    [Fact]
    public void A_file_inside_the_directory_is_admitted_with_its_normalised_path()
    {
        var file = Assert.IsType<ProductSource.File>(Policy(_feeds).Admit($"file:{_feeds}/./sub/../catalog.jsonl"));

        Assert.Equal(Path.Combine(_feeds, "catalog.jsonl"), file.Path);
    }

    [Fact]
    public void Paths_that_climb_out_or_name_a_missing_file_are_refused_without_revealing_server_paths()
    {
        var escaped = Refused(() => Policy(_feeds).Admit($"file:{_feeds}/../secret.jsonl"));
        var sibling = Refused(() => Policy(_feeds).Admit($"file:{_feeds}-other/catalog.jsonl"));
        var missing = Refused(() => Policy(_feeds).Admit($"file:{_feeds}/missing.jsonl"));
        var malformed = Refused(() => Policy(_feeds).Admit("ftp://catalog"));

        Assert.All(new[] { escaped, sibling, missing, malformed }, e => Assert.DoesNotContain(_root, e.Message));
        Assert.Contains("missing.jsonl", missing.Message);
    }
}
