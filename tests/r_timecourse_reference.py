"""Reference values for every-timepoint results and the Friedman level, computed with R.

Produced by R version 4.2.2 Patched (2022-11-10 r83330) via

    Rscript tests/r/make_timecourse_reference.R

GENERATED FILE -- do not edit by hand. Every expected number is R output printed
with sprintf("%.17g"); R NA is written as None. DATA is long format: one value per
patient, timepoint (BL day 0, C2 day 21, C4 day 63) and biomarker.
"""

# fmt: off

DATA = {
    "patient_id": ["C01", "C01", "C01", "C01", "C01", "C01", "C01", "C01", "C01", "C02", "C02", "C02", "C02", "C02", "C02", "C02", "C02", "C02", "C03", "C03", "C03", "C03", "C03", "C03", "C04", "C04", "C04", "C04", "C04", "C04", "C04", "C04", "C04", "C05", "C05", "C05", "C05", "C05", "C05", "C05", "C05", "C05", "C06", "C06", "C06", "C06", "C06", "C06", "C06", "C06", "C06", "T01", "T01", "T01", "T01", "T01", "T01", "T01", "T01", "T01", "T02", "T02", "T02", "T02", "T02", "T02", "T02", "T02", "T03", "T03", "T03", "T03", "T03", "T03", "T03", "T03", "T03", "T04", "T04", "T04", "T04", "T04", "T04", "T04", "T04", "T04", "T05", "T05", "T05", "T05", "T05", "T05", "T05", "T06", "T06", "T06", "T06", "T06", "T06", "T06", "T06", "T06", "T07", "T07", "T07", "T07", "T07", "T07", "T07", "T07", "T07"],
    "arm": ["Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Control", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated", "Treated"],
    "timepoint": ["BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "BL", "C2", "BL", "C2", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C4", "BL", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4", "BL", "C2", "C4"],
    "biomarker": ["CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "FAP", "FAP", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67", "CD8", "CD8", "CD8", "FAP", "FAP", "FAP", "KI67", "KI67", "KI67"],
    "value": [16.2, 18.1, 17.0, 8.0, 4.6, 5.5, 12.0, 12.0, 19.0, 13.3, 6.5, 6.9, 25.2, 26.1, 15.7, 28.0, 28.0, 28.0, 55.0, 36.4, 28.0, 22.2, 38.0, 55.0, 23.4, 22.2, 34.4, 14.1, 7.7, 10.2, 12.0, 12.0, 6.0, 31.1, 24.0, 10.9, 13.0, 9.1, 14.4, 8.0, 7.0, 9.0, 24.3, 21.5, 9.6, 14.0, 12.5, 8.2, 23.0, 18.0, 20.0, 18.8, 32.7, 75.2, 20.8, 10.6, 22.3, 69.0, 69.0, 223.0, 16.0, 74.6, 28.1, 17.2, 5.4, 47.0, 47.0, 47.0, 13.6, 64.3, 68.1, 44.1, 30.4, 7.5, 45.0, 25.0, 162.0, 12.8, 20.5, 51.6, 11.8, 7.8, 3.1, 10.0, 10.0, 24.0, 49.2, 141.0, 20.6, 4.2, 34.0, 53.0, 121.0, 8.0, 12.7, 36.7, 26.2, 21.6, 11.1, 21.0, 39.0, 43.0, 105.7, 320.7, 742.8, 30.1, 9.4, 6.5, 6.0, 6.0, 14.0],
}

ARM_R_CODE = "x <- log2(post) - log2(pre) per timepoint; t.test(x); q = p.adjust(p, 'BH') per arm and timepoint"
ARM_BY_TIMEPOINT = [
    {"timepoint": "C2", "biomarker": "CD8", "arm": "Control", "n_pairs": 6.0, "gmean_fc": 0.78505006585858472, "gmean_fc_lo": 0.57733727899916698, "gmean_fc_hi": 1.0674931765586844, "p_ttest": 0.098830417837962009, "q_ttest": 0.14824562675694303},
    {"timepoint": "C2", "biomarker": "FAP", "arm": "Control", "n_pairs": 6.0, "gmean_fc": 0.73769311595226572, "gmean_fc_lo": 0.56756717690842617, "gmean_fc_hi": 0.95881360914421809, "p_ttest": 0.030694769566137859, "q_ttest": 0.092084308698413581},
    {"timepoint": "C2", "biomarker": "KI67", "arm": "Control", "n_pairs": 6.0, "gmean_fc": 0.99851663042328687, "gmean_fc_lo": 0.8033977993774607, "gmean_fc_hi": 1.2410233909085397, "p_ttest": 0.9866758636219024, "q_ttest": 0.9866758636219024},
    {"timepoint": "C2", "biomarker": "CD8", "arm": "Treated", "n_pairs": 6.0, "gmean_fc": 2.5812321662062123, "gmean_fc_lo": 1.4926491229080483, "gmean_fc_hi": 4.4637144748907343, "p_ttest": 0.0066992818178538485, "q_ttest": 0.017039715501819295},
    {"timepoint": "C2", "biomarker": "FAP", "arm": "Treated", "n_pairs": 6.0, "gmean_fc": 0.51551923597846638, "gmean_fc_lo": 0.33326392293623924, "gmean_fc_hi": 0.79744630118474447, "p_ttest": 0.011359810334546196, "q_ttest": 0.017039715501819295},
    {"timepoint": "C2", "biomarker": "KI67", "arm": "Treated", "n_pairs": 7.0, "gmean_fc": 1.0702405314085914, "gmean_fc_lo": 0.74900013460061687, "gmean_fc_hi": 1.5292584635922717, "p_ttest": 0.65805095284255333, "q_ttest": 0.65805095284255333},
    {"timepoint": "C4", "biomarker": "CD8", "arm": "Control", "n_pairs": 5.0, "gmean_fc": 0.64405210206495955, "gmean_fc_lo": 0.29546988456873691, "gmean_fc_hi": 1.4038761032439333, "p_ttest": 0.192023527512799, "q_ttest": 0.28803529126919847},
    {"timepoint": "C4", "biomarker": "FAP", "arm": "Control", "n_pairs": 5.0, "gmean_fc": 0.7255236369380067, "gmean_fc_lo": 0.53158906136926576, "gmean_fc_hi": 0.99020951710310334, "p_ttest": 0.045731862453427613, "q_ttest": 0.13719558736028284},
    {"timepoint": "C4", "biomarker": "KI67", "arm": "Control", "n_pairs": 5.0, "gmean_fc": 0.95016583013892775, "gmean_fc_lo": 0.56272514332969259, "gmean_fc_hi": 1.6043624768951388, "p_ttest": 0.79984700410857412, "q_ttest": 0.79984700410857412},
    {"timepoint": "C4", "biomarker": "CD8", "arm": "Treated", "n_pairs": 7.0, "gmean_fc": 3.8742598983123946, "gmean_fc_lo": 2.5759861469040839, "gmean_fc_hi": 5.8268518942584429, "p_ttest": 0.00018730287714809339, "q_ttest": 0.00056190863144428018},
    {"timepoint": "C4", "biomarker": "FAP", "arm": "Treated", "n_pairs": 6.0, "gmean_fc": 0.31034809542898362, "gmean_fc_lo": 0.1515781931232287, "gmean_fc_hi": 0.63542082374669429, "p_ttest": 0.0085118866773676322, "q_ttest": 0.0085118866773676322},
    {"timepoint": "C4", "biomarker": "KI67", "arm": "Treated", "n_pairs": 7.0, "gmean_fc": 2.4118895525563535, "gmean_fc_lo": 1.5947686497631208, "gmean_fc_hi": 3.6476834521386827, "p_ttest": 0.0020000626829704527, "q_ttest": 0.0030000940244556788},
]

COMPARISON_R_CODE = "t.test(x_Treated, x_Control); lm(log2(post) ~ log2(pre) + arm); q = p.adjust(p, 'BH') per timepoint"
COMPARISON_BY_TIMEPOINT = [
    {"timepoint": "C2", "biomarker": "CD8", "arm": "Treated", "gmfc_ratio": 3.2879841407098018, "p_welch": 0.0012992920773023124, "ancova_ratio": 3.3832183837526779, "p_ancova": 0.0010749409353238378, "q_welch": 0.003897876231906937, "q_ancova": 0.0032248228059715135},
    {"timepoint": "C2", "biomarker": "FAP", "arm": "Treated", "gmfc_ratio": 0.69882614440965496, "p_welch": 0.10701378321037813, "ancova_ratio": 0.63988036300212725, "p_ancova": 0.071386456791948855, "q_welch": 0.1605206748155672, "q_ancova": 0.10707968518792328},
    {"timepoint": "C2", "biomarker": "KI67", "arm": "Treated", "gmfc_ratio": 1.0718304520926203, "p_welch": 0.68995579132127771, "ancova_ratio": 1.0714957969006806, "p_ancova": 0.72536817929063813, "q_welch": 0.68995579132127771, "q_ancova": 0.72536817929063813},
    {"timepoint": "C4", "biomarker": "CD8", "arm": "Treated", "gmfc_ratio": 6.0154448466059565, "p_welch": 0.0010227355534310905, "ancova_ratio": 5.9978494565856337, "p_ancova": 0.00034937211159553118, "q_welch": 0.0030682066602932719, "q_ancova": 0.0010481163347865936},
    {"timepoint": "C4", "biomarker": "FAP", "arm": "Treated", "gmfc_ratio": 0.42775738739370894, "p_welch": 0.027462931620098899, "ancova_ratio": 0.50429264845034916, "p_ancova": 0.12909646637444039, "q_welch": 0.027462931620098899, "q_ancova": 0.12909646637444039},
    {"timepoint": "C4", "biomarker": "KI67", "arm": "Treated", "gmfc_ratio": 2.5383880119154578, "p_welch": 0.005009789238879102, "ancova_ratio": 2.5173149030921822, "p_ancova": 0.010615419999950188, "q_welch": 0.0075146838583186534, "q_ancova": 0.015923129999925283},
]

FRIEDMAN_R_CODE = "friedman.test(log2(y)) on complete patients x (BL, C2, C4); q = p.adjust(p, 'BH') per arm"
FRIEDMAN = [
    {"biomarker": "CD8", "arm": "Control", "n_complete": 5.0, "n_timepoints": 3.0, "friedman_chisq": 1.2, "p_friedman": 0.54881163609402639, "q_friedman": 0.54881163609402639},
    {"biomarker": "FAP", "arm": "Control", "n_complete": 5.0, "n_timepoints": 3.0, "friedman_chisq": 2.7999999999999998, "p_friedman": 0.24659696394160649, "q_friedman": 0.54881163609402639},
    {"biomarker": "KI67", "arm": "Control", "n_complete": 5.0, "n_timepoints": 3.0, "friedman_chisq": 1.7142857142857142, "p_friedman": 0.42437284567694999, "q_friedman": 0.54881163609402639},
    {"biomarker": "CD8", "arm": "Treated", "n_complete": 6.0, "n_timepoints": 3.0, "friedman_chisq": 10.333333333333334, "p_friedman": 0.0057035489980074017, "q_friedman": 0.0085553234970111025},
    {"biomarker": "FAP", "arm": "Treated", "n_complete": 5.0, "n_timepoints": 3.0, "friedman_chisq": 5.2000000000000002, "p_friedman": 0.074273578214333877, "q_friedman": 0.074273578214333877},
    {"biomarker": "KI67", "arm": "Treated", "n_complete": 7.0, "n_timepoints": 3.0, "friedman_chisq": 10.380952380952381, "p_friedman": 0.0055693541099879999, "q_friedman": 0.0085553234970111025},
]
# fmt: on
