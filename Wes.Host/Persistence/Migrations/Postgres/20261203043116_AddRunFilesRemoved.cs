using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Wes.Persistence.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddRunFilesRemoved : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "files_removed_at",
                table: "runs",
                type: "bigint",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "ix_runs_retention_candidates",
                table: "runs",
                columns: new[] { "ended_at", "run_id" },
                filter: "files_removed_at IS NULL AND ended_at IS NOT NULL");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_runs_retention_candidates",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "files_removed_at",
                table: "runs");
        }
    }
}
