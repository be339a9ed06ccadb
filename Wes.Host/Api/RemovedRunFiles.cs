using Microsoft.AspNetCore.Http.HttpResults;

namespace Wes.Api;

/// <summary>The answer for a file of a run whose files the retention policy removed: 410 Gone, saying when and why.</summary>
public static class RemovedRunFiles
{
    public static JsonHttpResult<ErrorResponse> Gone(string runId, long removedAt, string detail) =>
        TypedResults.Json(new ErrorResponse(
            $"The files of run '{runId}' were removed at {RunViews.Time(removedAt)} by the retention policy (WES_RETENTION_DAYS); {detail}.",
            StatusCodes.Status410Gone), statusCode: StatusCodes.Status410Gone);
}
