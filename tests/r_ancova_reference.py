"""Reference values for the ANCOVA of log2 post on log2 pre and arm, computed with R.

Produced by R version 4.2.2 Patched (2022-11-10 r83330) via

    Rscript tests/r/make_ancova_reference.R

GENERATED FILE -- do not edit by hand. Every expected number is R output printed
with sprintf("%.17g"); R NA is written as None.
"""

ANCOVA_R_CODE = (
    "fit <- lm(log2(post) ~ log2(pre) + arm) on arms with >= 3 pairs, reference first; "
    "ratio = 2^coef, CI = 2^confint(fit, level), p from summary(fit), "
    "q = p.adjust(p, fdr) per arm across biomarkers, overall = anova(fit)['arm', 'Pr(>F)']"
)

# fmt: off
ANCOVA_CASES = [
    {
        "name": "two_arms_three_biomarkers_bh",
        "reference_arm": "Control",
        "conf_level": 0.95,
        "fdr": "bh",
        "biomarker": ["M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M1", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M2", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3", "M3"],
        "arm": ["Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated"],
        "pre": [7.02, 107.43, 11.47, 10.75, 29.06, 21.21, 12.23, 65.59, 116.14, 25.52, 7.42, 12.49, 10.36, 55.71, 25.21, 8.16, 10.95, 33.52, 7.14, 26.35, 7.24, 17.18, 20.98, 27.96, 5.54, 7.03, 38.33, 24.23, 12.27, 5.22, 2.07, 21.57, 36.38, 19.18, 6.87, 4.98, 28.31, 16.59, 56.39, 6.9, 46.11, 19.5, 11.64, 21.38, 14.5, 7.43, 12.29, 23.95, 57.44, 5.92, 34.47, 32.48, 83.67, 49.93, 23.75, 23.11, 33.07, 21.55, 46.27, 47.59],
        "post": [9.18, 71.45, 11.05, 10.81, 31.25, 7.91, 13.36, 26.92, 46.32, 27.75, 15.01, 10.54, 14.97, 82.96, 21.16, 16.77, 15.02, 31.98, 8.94, 22.15, 6.64, 9.31, 27.64, 24.37, 6.65, 9.02, 44.97, 17.36, 11.47, 15.33, 3.74, 28.98, 134.51, 18.08, 28.62, 3.92, 17.37, 7.68, 43.75, 6.09, 40.1, 7.51, 17.12, 30.12, 22.53, 4.64, 23.26, 22.03, 26.21, 6.35, 38.3, 33.84, 46.98, 12.7, 10.18, 13.75, 23.75, 8.92, 15.38, 19.71],
        "expected": [
            {"biomarker": "M1", "arm": "Treated", "ancova_ratio": 1.4550022012109396, "ancova_lo": 1.0494625514103901, "ancova_hi": 2.0172529288287286, "p_ancova": 0.026924361443425096, "q_ancova": 0.080773084330275288, "p_ancova_overall": None},
            {"biomarker": "M2", "arm": "Treated", "ancova_ratio": 1.2999239565616221, "ancova_lo": 0.74076997217853091, "ancova_hi": 2.2811430758637274, "p_ancova": 0.3388765536940781, "q_ancova": 0.3388765536940781, "p_ancova_overall": None},
            {"biomarker": "M3", "arm": "Treated", "ancova_ratio": 0.70246596596627109, "ancova_lo": 0.42494484139353933, "ancova_hi": 1.161229376788544, "p_ancova": 0.1565398958484735, "q_ancova": 0.23480984377271025, "p_ancova_overall": None},
        ],
    },
    {
        "name": "three_arms_holm_90",
        "reference_arm": "Placebo",
        "conf_level": 0.9,
        "fdr": "holm",
        "biomarker": ["CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP"],
        "arm": ["Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose"],
        "pre": [7.62, 12.56, 8.98, 43.42, 42.59, 78.01, 35.64, 21.2, 34.54, 14.91, 18.36, 38.89, 13.76, 11.62, 44.3, 29.62, 26.13, 13.68, 10.43, 8.86, 26.91, 40.21, 24.54, 66.11, 10.21, 42.11, 17.99, 32.91, 44.37, 6.88, 24.92, 68.46, 31.52, 24.28, 19.1, 27.77, 21.01, 22.02, 5.36, 29.55, 18.11, 71.81, 6.33, 18.86, 10.31, 57.82, 24.3, 10.64],
        "post": [13.64, 19.65, 10.45, 22.05, 55.78, 26.72, 11.1, 35.58, 44.7, 20.72, 19.31, 66.57, 40.84, 42.73, 90.73, 41.65, 18.94, 7.67, 9.3, 4.58, 26.69, 34.48, 25.73, 36.38, 12.59, 68.34, 14.43, 9.84, 63.31, 3.67, 23.01, 51.25, 35.02, 16.86, 23.51, 42.44, 23.17, 27.05, 6.52, 40.25, 21.6, 44.09, 44.05, 12.29, 28.3, 72.53, 16.6, 4.81],
        "expected": [
            {"biomarker": "CD8", "arm": "HighDose", "ancova_ratio": 2.033184525833585, "ancova_lo": 1.3140833161552596, "ancova_hi": 3.1457969713700589, "p_ancova": 0.010958525527933742, "q_ancova": 0.021917051055867484, "p_ancova_overall": 0.0075025175001315727},
            {"biomarker": "CD8", "arm": "LowDose", "ancova_ratio": 0.88841065367954619, "ancova_lo": 0.58984665865838226, "ancova_hi": 1.338099450061371, "p_ancova": 0.62373979200598806, "q_ancova": 0.64511761117277611, "p_ancova_overall": 0.0075025175001315727},
            {"biomarker": "FAP", "arm": "HighDose", "ancova_ratio": 1.2800359622455491, "ancova_lo": 0.72663579405202827, "ancova_hi": 2.2549013935921929, "p_ancova": 0.46079297212172377, "q_ancova": 0.46079297212172377, "p_ancova_overall": 0.58358698321817093},
            {"biomarker": "FAP", "arm": "LowDose", "ancova_ratio": 1.365317865150304, "ancova_lo": 0.80404350368264799, "ancova_hi": 2.3183980274210776, "p_ancova": 0.32255880558638805, "q_ancova": 0.64511761117277611, "p_ancova_overall": 0.58358698321817093},
        ],
    },
    {
        "name": "three_arms_one_with_two_pairs",
        "reference_arm": "Placebo",
        "conf_level": 0.95,
        "fdr": "bh",
        "biomarker": ["CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP", "FAP"],
        "arm": ["Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "LowDose", "LowDose", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "Placebo", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "HighDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose", "LowDose"],
        "pre": [7.62, 12.56, 8.98, 43.42, 42.59, 78.01, 35.64, 21.2, 34.54, 14.91, 18.36, 38.89, 13.76, 11.62, 44.3, 29.62, 26.13, 10.21, 42.11, 17.99, 32.91, 44.37, 6.88, 24.92, 68.46, 31.52, 24.28, 19.1, 27.77, 21.01, 22.02, 5.36, 29.55, 18.11, 71.81, 6.33, 18.86, 10.31, 57.82, 24.3, 10.64],
        "post": [13.64, 19.65, 10.45, 22.05, 55.78, 26.72, 11.1, 35.58, 44.7, 20.72, 19.31, 66.57, 40.84, 42.73, 90.73, 41.65, 18.94, 12.59, 68.34, 14.43, 9.84, 63.31, 3.67, 23.01, 51.25, 35.02, 16.86, 23.51, 42.44, 23.17, 27.05, 6.52, 40.25, 21.6, 44.09, 44.05, 12.29, 28.3, 72.53, 16.6, 4.81],
        "expected": [
            {"biomarker": "CD8", "arm": "HighDose", "ancova_ratio": 2.006672497878184, "ancova_lo": 1.1487380411356718, "ancova_hi": 3.5053548934095864, "p_ancova": 0.018592919540458327, "q_ancova": 0.037185839080916654, "p_ancova_overall": 0.018592919540458344},
            {"biomarker": "CD8", "arm": "LowDose", "ancova_ratio": None, "ancova_lo": None, "ancova_hi": None, "p_ancova": None, "q_ancova": None, "p_ancova_overall": None},
            {"biomarker": "FAP", "arm": "HighDose", "ancova_ratio": 1.2800359622455491, "ancova_lo": 0.64537402437262881, "ancova_hi": 2.5388255534992674, "p_ancova": 0.46079297212172377, "q_ancova": 0.46079297212172377, "p_ancova_overall": 0.58358698321817093},
            {"biomarker": "FAP", "arm": "LowDose", "ancova_ratio": 1.365317865150304, "ancova_lo": 0.71963990748637108, "ancova_hi": 2.5903133685424282, "p_ancova": 0.32255880558638805, "q_ancova": 0.32255880558638805, "p_ancova_overall": 0.58358698321817093},
        ],
    },
    {
        "name": "singular_fit",
        "reference_arm": "A",
        "conf_level": 0.95,
        "fdr": "bh",
        "biomarker": ["S100", "S100", "S100", "S100", "S100", "S100", "S100", "S100", "S100", "GZMB", "GZMB", "GZMB", "GZMB", "GZMB", "GZMB", "GZMB", "GZMB", "GZMB"],
        "arm": ["A", "A", "A", "A", "B", "B", "B", "B", "B", "A", "A", "A", "A", "B", "B", "B", "B", "B"],
        "pre": [10.0, 10.0, 10.0, 10.0, 20.0, 20.0, 20.0, 20.0, 20.0, 3.1, 5.7, 2.2, 8.4, 4.4, 1.9, 6.6, 3.3, 9.8],
        "post": [12.5, 8.1, 11.2, 9.9, 31.2, 25.4, 40.3, 22.8, 35.5, 2.9, 7.1, 2.6, 6.3, 9.2, 3.5, 15.1, 6.0, 17.7],
        "expected": [
            {"biomarker": "GZMB", "arm": "B", "ancova_ratio": 1.9498655460874648, "ancova_lo": 1.4455691085025042, "ancova_hi": 2.6300891638155681, "p_ancova": 0.0015725437373068131, "q_ancova": 0.0015725437373068131, "p_ancova_overall": None},
            {"biomarker": "S100", "arm": "B", "ancova_ratio": None, "ancova_lo": None, "ancova_hi": None, "p_ancova": None, "q_ancova": None, "p_ancova_overall": None},
        ],
    },
]
# fmt: on
