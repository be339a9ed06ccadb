using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Wes.Persistence.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class AddRunOwner : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "owner",
                table: "runs",
                type: "TEXT",
                maxLength: 200,
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_runs_owner_seq",
                table: "runs",
                columns: new[] { "owner", "seq" });

            migrationBuilder.CreateIndex(
                name: "IX_runs_owner_state",
                table: "runs",
                columns: new[] { "owner", "state" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_runs_owner_seq",
                table: "runs");

            migrationBuilder.DropIndex(
                name: "IX_runs_owner_state",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "owner",
                table: "runs");
        }
    }
}
