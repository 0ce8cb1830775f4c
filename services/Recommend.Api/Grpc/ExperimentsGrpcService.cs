using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Recommend.Core.Experiments;
using Recommend.Core.Ranking;
using Proto = Recommend.Contracts.V1;
using static Recommend.Api.Grpc.RequestValidation;

namespace Recommend.Api.Grpc;

/// <summary>recommend.v1.Experiments (also HTTP/JSON by transcoding): translation only; rules live in <see cref="ExperimentService"/>.</summary>
internal sealed class ExperimentsGrpcService(ExperimentService experiments, RankingProfile defaultProfile) : Proto.Experiments.ExperimentsBase
{
    public override async Task<Proto.Experiment> CreateExperiment(Proto.CreateExperimentRequest request, ServerCallContext context)
    {
        if (request.Experiment is null) throw Invalid("experiment", "is required");
        return (await experiments.CreateAsync(ExperimentMapping.ToDomain(request.Experiment, defaultProfile), context.CancellationToken)).ToProto();
    }

    public override async Task<Proto.Experiment> GetExperiment(Proto.GetExperimentRequest request, ServerCallContext context) =>
        (await experiments.GetAsync(Id(request.ExperimentId, "experiment_id"), context.CancellationToken)).ToProto();

    public override async Task<Proto.ListExperimentsResponse> ListExperiments(Proto.ListExperimentsRequest request, ServerCallContext context)
    {
        var response = new Proto.ListExperimentsResponse();
        response.Experiments.AddRange((await experiments.ListAsync(context.CancellationToken)).Select(e => e.ToProto()));
        return response;
    }

    public override async Task<Proto.Experiment> StartExperiment(Proto.StartExperimentRequest request, ServerCallContext context) =>
        (await experiments.StartAsync(Id(request.ExperimentId, "experiment_id"), context.CancellationToken)).ToProto();

    public override async Task<Proto.Experiment> StopExperiment(Proto.StopExperimentRequest request, ServerCallContext context) =>
        (await experiments.StopAsync(Id(request.ExperimentId, "experiment_id"), context.CancellationToken)).ToProto();

    public override async Task<Proto.ExperimentReport> GetExperimentReport(Proto.GetExperimentReportRequest request, ServerCallContext context)
    {
        var report = await experiments.ReportAsync(Id(request.ExperimentId, "experiment_id"),
            Time(request.From, "from"), Time(request.To, "to"), context.CancellationToken);
        return report.ToProto();
    }

    private static DateTimeOffset? Time(Timestamp? timestamp, string field) =>
        timestamp is null ? null
        : timestamp.Seconds is < -62135596800 or > 253402300799 || timestamp.Nanos is < 0 or > 999_999_999
            ? throw Invalid(field, "is out of range")
            : timestamp.ToDateTimeOffset();
}
