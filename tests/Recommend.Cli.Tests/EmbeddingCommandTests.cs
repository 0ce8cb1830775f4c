using System.Text.Json;
using Recommend.Testing.Qwen;

namespace Recommend.Cli.Tests;

public sealed class EmbeddingCommandTests(TinyQwenModels models) : IClassFixture<TinyQwenModels>
{
    [Fact]
    public async Task Tokenize_prints_hugging_face_ids_per_json_line()
    {
        var result = await CliProcess.RunAsync("\"test\"\n{\"text\":\"test again\"}\n\"!#012\"\n\"\"\n", "tokenize", "--model-dir", models.InterfaceA);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal(
            ["{\"ids\":[1944,151643]}", "{\"ids\":[1944,1549,151643]}", "{\"ids\":[0,2,15,16,17,151643]}", "{\"ids\":[151643]}"],
            result.Lines);
    }

    [Fact]
    public async Task Embed_prints_unit_vectors_of_the_requested_dimension_and_queries_differ_from_documents()
    {
        var documents = await CliProcess.RunAsync("\"red spotty mug\"\n\"white hanging heart t-light holder\"\n", "embed", "--model-dir", models.InterfaceB, "--dim", "32");
        var queries = await CliProcess.RunAsync("\"red spotty mug\"\n", "embed", "--model-dir", models.InterfaceB, "--dim", "32", "--query");

        Assert.Equal(0, documents.ExitCode);
        var vectors = documents.Lines.Select(Vector).ToList();
        Assert.Equal(2, vectors.Count);
        Assert.All(vectors, v =>
        {
            Assert.Equal(32, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 4);
        });
        Assert.NotEqual(vectors[0], vectors[1]);
        Assert.NotEqual(vectors[0], Vector(Assert.Single(queries.Lines)));
    }

    [Fact]
    public async Task Embed_without_a_model_fails_with_a_message()
    {
        var result = await CliProcess.RunAsync("\"x\"\n", "embed", "--model-dir", Path.GetTempPath());

        Assert.NotEqual(0, result.ExitCode);
        Assert.False(string.IsNullOrWhiteSpace(result.Errors));
    }

    private static double[] Vector(string line)
    {
        using var json = JsonDocument.Parse(line);
        return json.RootElement.GetProperty("vector").EnumerateArray().Select(x => x.GetDouble()).ToArray();
    }
}
