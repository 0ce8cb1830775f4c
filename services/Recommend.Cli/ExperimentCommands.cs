using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Recommend.Contracts.V1;
using Spectre.Console;
using YamlDotNet.RepresentationModel;

namespace Recommend.Cli;

/// <summary><c>recommend experiments create|list|show|start|stop|report</c>, against a running server.</summary>
internal static class ExperimentCommands
{
    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(false));

    public static Command Create()
    {
        var server = ServerConnection.ServerOption();
        var id = new Argument<string>("experiment-id");
        var experiments = new Command("experiments", "A/B and interleaving experiments on ranking variants");

        var file = new Argument<FileInfo>("file") { Description = "The experiment as JSON or YAML (fields as in protos/recommend/v1/experiments.proto)" };
        var create = new Command("create", "Create (or replace) a draft experiment from a file") { file, server };
        create.SetAction(async (r, ct) =>
        {
            var experiment = Read(r.GetValue(file)!);
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var created = await Client(channel).CreateExperimentAsync(new CreateExperimentRequest { Experiment = experiment }, cancellationToken: ct);
            AnsiConsole.MarkupLine($"created [bold]{Markup.Escape(created.ExperimentId)}[/] ({created.Status}); start it with: recommend experiments start {Markup.Escape(created.ExperimentId)}");
            return 0;
        });

        var list = new Command("list", "All experiments, newest first") { server };
        list.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var reply = await Client(channel).ListExperimentsAsync(new ListExperimentsRequest(), cancellationToken: ct);
            var table = new Table().AddColumns("id", "name", "mode", "status", "placements", "variants", "started");
            foreach (var e in reply.Experiments)
            {
                table.AddRow(Markup.Escape(e.ExperimentId), Markup.Escape(e.Name), e.Mode, e.Status, Markup.Escape(string.Join(", ", e.Placements)),
                    Markup.Escape(string.Join(", ", e.Variants.Select(v => v.Control ? $"{v.Name}*" : v.Name))), e.StartedAt?.ToDateTime().ToString("u", CultureInfo.InvariantCulture) ?? "");
            }
            AnsiConsole.Write(table);
            return 0;
        });

        var show = new Command("show", "One experiment as JSON") { id, server };
        show.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            Console.WriteLine(JsonFormatter.Default.Format(await Client(channel).GetExperimentAsync(new GetExperimentRequest { ExperimentId = r.GetValue(id) }, cancellationToken: ct)));
            return 0;
        });

        var start = new Command("start", "Start a draft experiment") { id, server };
        start.SetAction(async (r, ct) => await TransitionAsync(r.GetValue(server)!, c => c.StartExperimentAsync(new StartExperimentRequest { ExperimentId = r.GetValue(id) }, cancellationToken: ct)));
        var stop = new Command("stop", "Stop a running experiment") { id, server };
        stop.SetAction(async (r, ct) => await TransitionAsync(r.GetValue(server)!, c => c.StopExperimentAsync(new StopExperimentRequest { ExperimentId = r.GetValue(id) }, cancellationToken: ct)));

        var from = new Option<DateTimeOffset?>("--from") { Description = "Count exposures and events from this time (default: the start)" };
        var to = new Option<DateTimeOffset?>("--to") { Description = "… until this time (default: now, or the stop)" };
        var json = new Option<bool>("--json") { Description = "Print the report as JSON instead of tables" };
        var report = new Command("report", "Lift, CIs, p-values and the SRM verdict") { id, from, to, json, server };
        report.SetAction(async (r, ct) =>
        {
            using var channel = ServerConnection.Open(r.GetValue(server)!);
            var request = new GetExperimentReportRequest { ExperimentId = r.GetValue(id) };
            if (r.GetValue(from) is { } f) request.From = Timestamp.FromDateTimeOffset(f);
            if (r.GetValue(to) is { } t) request.To = Timestamp.FromDateTimeOffset(t);
            var reply = await Client(channel).GetExperimentReportAsync(request, cancellationToken: ct);
            if (r.GetValue(json)) Console.WriteLine(JsonFormatter.Default.Format(reply));
            else ReportView.Write(reply);
            return 0;
        });

        foreach (var command in new[] { create, list, show, start, stop, report }) experiments.Subcommands.Add(command);
        return experiments;
    }

    private static Experiments.ExperimentsClient Client(Grpc.Net.Client.GrpcChannel channel) => new(channel);

    private static async Task<int> TransitionAsync(string address, Func<Experiments.ExperimentsClient, Grpc.Core.AsyncUnaryCall<Experiment>> call)
    {
        using var channel = ServerConnection.Open(address);
        var experiment = await call(Client(channel));
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(experiment.ExperimentId)}[/] is {experiment.Status}");
        return 0;
    }

    /// <summary>An experiment file: the Experiment itself or {"experiment": …}, in JSON or YAML.</summary>
    internal static Experiment Read(FileInfo file)
    {
        var text = File.ReadAllText(file.FullName);
        var node = file.Extension.ToLowerInvariant() is ".yaml" or ".yml" ? FromYaml(text) : JsonNode.Parse(text);
        if (node is JsonObject { } root && root["experiment"] is JsonObject inner) node = inner;
        return Parser.Parse<Experiment>(node?.ToJsonString() ?? "{}");
    }

    /// <summary>YAML to JSON with plain scalars typed (true/false, numbers, null) as YAML 1.2's core schema types them.</summary>
    private static JsonNode? FromYaml(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);

        static JsonNode? Convert(YamlNode node) => node switch
        {
            YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value ?? "", Convert(c.Value)))),
            YamlSequenceNode list => new JsonArray(list.Children.Select(Convert).ToArray()),
            YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain } plain => Scalar(plain.Value ?? ""),
            YamlScalarNode quoted => JsonValue.Create(quoted.Value),
            _ => null,
        };

        static JsonNode? Scalar(string value) => value switch
        {
            "true" or "True" => JsonValue.Create(true),
            "false" or "False" => JsonValue.Create(false),
            "" or "~" or "null" => null,
            _ when double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => JsonValue.Create(number),
            _ => JsonValue.Create(value),
        };
    }
}
