"""Write-back: discussion counts written into the SharePoint libraries of jobs that opt in."""
