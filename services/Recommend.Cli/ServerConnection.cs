using System.CommandLine;
using Grpc.Net.Client;

namespace Recommend.Cli;

/// <summary>The --server option every networked command shares, and the channel it opens.</summary>
internal static class ServerConnection
{
    public static Option<string> ServerOption() => new("--server", "-s")
    {
        Description = "Server address (plain HTTP/2)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("RECOMMEND_SERVER") ?? "http://127.0.0.1:5080",
    };

    public static GrpcChannel Open(string address) => GrpcChannel.ForAddress(address);
}
