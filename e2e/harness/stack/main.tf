# A stack whose apply holds the state lock for as long as it is told to:
# the provisioner of terraform_data sleeps while the resource is created.
# It needs no provider from a registry. The backend's bucket, key, endpoints
# and lock mode come from a backend configuration file given to init.

terraform {
  backend "s3" {
    region                      = "us-east-1"
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    skip_region_validation      = true
  }
}

variable "sleep" {
  description = "Seconds the creation of terraform_data.slow takes."
  type        = number
  default     = 60
}

variable "run_id" {
  description = "A new value replaces terraform_data.slow, so every run has work to do."
  type        = string
  default     = "1"
}

resource "terraform_data" "slow" {
  triggers_replace = var.run_id

  provisioner "local-exec" {
    command = "sleep ${var.sleep}"
  }
}
