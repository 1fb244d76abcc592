# Expected numbers for tests/analysis/test_r_agreement.py, computed with R on the fixed dataset
# analysis_reference_data.csv (a committed input; its generator-free recipe is
# make_reference_data.py). Regenerate with `make r-reference` (the only step that needs R:
# r-base-core, r-cran-survival, r-cran-cmprsk, r-cran-sandwich, r-cran-clubsandwich). Outputs:
# r_*.csv beside this file, written with 15 significant digits so that two runs give the same
# bytes; r_versions.txt records the versions.
suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(sandwich)
  library(clubSandwich)
})
args <- commandArgs(trailingOnly = TRUE)
here <- if (length(args) >= 1) args[1] else "tests/reference"
d <- read.csv(file.path(here, "analysis_reference_data.csv"), stringsAsFactors = FALSE)
d$guidance_intensity <- factor(d$guidance_intensity, levels = c("light", "standard", "intensive"))
d$pilot <- factor(d$pilot)
causes <- c("durable", "semi_durable", "none")           # event codes 1, 2, 3 (0 = censored)
grid <- c(1, 7, 30, 90, 180, 365, 547, 730, 1000)
out <- function(x, name) {
  num <- vapply(x, is.numeric, logical(1))
  x[num] <- lapply(x[num], function(v) signif(v, 15))
  write.csv(x, file.path(here, name), row.names = FALSE)
}

# 1. Aalen-Johansen cumulative incidence and its SE: survfit multi-state (trap 10: fix levels)
aj_table <- function(fit, group) {
  s <- summary(fit, times = grid, extend = TRUE)
  rows <- list()
  for (k in seq_along(causes)) {
    j <- match(as.character(k), fit$states)   # column of cause k (state "(s0)" is in the LVV)
    rows[[k]] <- data.frame(group = group, cause = causes[k], time = s$time,
                            cif = s$pstate[, j], se = s$std.err[, j],
                            lower = s$lower[, j], upper = s$upper[, j])
  }
  do.call(rbind, rows)
}
ev <- factor(d$event, levels = 0:3)
aj <- aj_table(survfit(Surv(time, ev) ~ 1, data = d), "all")
for (p in levels(d$pilot)) {
  sub <- d[d$pilot == p, ]
  aj <- rbind(aj, aj_table(survfit(Surv(time, factor(event, levels = 0:3)) ~ 1, data = sub), p))
}
out(aj, "r_cuminc_survfit.csv")

# 2. cmprsk::cuminc (its variance: Aalen 1978 with a tie correction; differs from survfit's)
ci <- cuminc(d$time, d$event, group = d$pilot, cencode = 0)
tp <- timepoints(ci, grid)
cm <- do.call(rbind, lapply(rownames(tp$est), function(r) {
  parts <- strsplit(r, " ")[[1]]
  data.frame(group = parts[1], cause = causes[as.integer(parts[2])], time = grid,
             cif = as.numeric(tp$est[r, ]), se = sqrt(as.numeric(tp$var[r, ])))
}))
out(cm, "r_cuminc_cmprsk.csv")

# 3. Kaplan-Meier of any exit with Greenwood SE, and the median with its CI (conf.type "log")
km_fit <- survfit(Surv(time, event > 0) ~ pilot, data = d)
s <- summary(km_fit, times = grid, extend = TRUE)
km <- data.frame(group = sub("pilot=", "", as.character(s$strata)), time = s$time,
                 surv = s$surv, se = s$std.err)
out(km, "r_km.csv")
tab <- summary(km_fit)$table
med <- data.frame(group = sub("pilot=", "", rownames(tab)), median = tab[, "median"],
                  lower = tab[, "0.95LCL"], upper = tab[, "0.95UCL"])
out(med, "r_km_median.csv")

# 4. Cause-specific Cox, strata by pilot, robust (cluster = pilot) errors, both ties methods
cox_rows <- list()
for (cause_k in 1:2) {
  for (ties in c("breslow", "efron")) {
    fit <- coxph(Surv(time, event == cause_k) ~ shelter_24h + n_prior + safe_country +
                   asylum_background + age_10y + female + guidance_intensity + strata(pilot),
                 data = d, ties = ties, cluster = pilot)
    cox_rows[[length(cox_rows) + 1]] <- data.frame(
      cause = causes[cause_k], ties = ties, term = names(coef(fit)), coef = unname(coef(fit)),
      se_naive = sqrt(diag(fit$naive.var)), se_robust = sqrt(diag(fit$var)))
  }
}
out(do.call(rbind, cox_rows), "r_cox.csv")

# 5. Window outcome (durable exit within 365 days): logit and LPM, HC1 cluster-robust by pilot
w <- d[!is.na(d$durable_365), ]
glm_rows <- list()
fits <- list(
  logit = glm(durable_365 ~ shelter_24h + pilot + n_prior + safe_country, data = w,
              family = binomial(), control = glm.control(epsilon = 1e-12, maxit = 100)),
  lpm = lm(durable_365 ~ shelter_24h + pilot + n_prior + safe_country, data = w))
for (m in names(fits)) {
  f <- fits[[m]]
  glm_rows[[m]] <- data.frame(model = m, term = names(coef(f)), coef = unname(coef(f)),
                              se_model = sqrt(diag(vcov(f))),
                              se_cluster = sqrt(diag(vcovCL(f, cluster = ~pilot, type = "HC1"))))
}
out(do.call(rbind, glm_rows), "r_glm.csv")

# 6. CR2 (Bell-McCaffrey) cluster-robust errors of the linear models, t(G - 1) ("naive-t")
cr2_rows <- list()
lpms <- list(
  lpm = fits$lpm,
  lpm_no_fe = lm(durable_365 ~ shelter_24h + n_prior + safe_country, data = w))
for (m in names(lpms)) {
  ct <- coef_test(lpms[[m]], vcov = vcovCR(lpms[[m]], cluster = w$pilot, type = "CR2"),
                  test = "naive-t")
  cr2_rows[[m]] <- data.frame(model = m, term = ct$Coef, coef = ct$beta, se_cr2 = ct$SE,
                              df = ct$df_t, p_cr2 = ct$p_t)
}
out(do.call(rbind, cr2_rows), "r_cr2.csv")

writeLines(c(R.version.string,
             paste("survival", packageVersion("survival")),
             paste("cmprsk", packageVersion("cmprsk")),
             paste("sandwich", packageVersion("sandwich")),
             paste("clubSandwich", packageVersion("clubSandwich"))),
           file.path(here, "r_versions.txt"))
