"""Citations the plan rules rest on. Keys are short ids used by `rules.py`; values are full references.

Taken from section 4 (retraining evidence) and sections 1-3 of ../shared/reference/biomechanics.md. Items marked
"(check)" there are marked the same way here. Every rule must cite at least one key of `SOURCES` (tested).
"""
from __future__ import annotations

SOURCES: dict[str, str] = {
    "heiderscheit2011": "Heiderscheit BC et al. 2011, Med Sci Sports Exerc 43(2): effects of step rate manipulation on "
                        "joint mechanics during running (+5 % cadence cut knee energy absorption; +10 % also hip "
                        "energy absorption and hip adduction).",
    "anderson2022": "Anderson LM et al. 2022, Sports Med Open: meta-analysis of cadence retraining (strong evidence "
                    "for lower peak knee flexion; moderate for shorter steps, less hip adduction, lower knee "
                    "extensor moment and foot-strike angle; very limited evidence on injury).",
    "willy2016": "Willy RW et al. 2016, Scand J Med Sci Sports: cueing +7.5 % cadence over 8 sessions in the "
                 "runners' own setting gave +8.6 %, loading rates -18 %, hip adduction -2.9 deg, held at 1 month.",
    "lieberman2015": "Lieberman DE et al. 2015, J Exp Biol: braking force rises as the foot lands further ahead of the "
                     "hip; each +5 strides/min cut that distance by about 6 %.",
    "wille2014": "Wille CM et al. 2014, J Orthop Sports Phys Ther: heel-COM distance, foot inclination and knee angles "
                 "explained 43-58 % of knee and ground-reaction-force kinetics.",
    "souza2016": "Souza RB 2016, Phys Med Rehabil Clin N Am: 2D video analysis of running (near-vertical tibia at "
                 "loading response; foot inclination angle; peak knee flexion well under 45 deg = poor absorption; "
                 "no validated overstride cut-off, track change from baseline).",
    "altman2012": "Altman AR, Davis IS 2012, Gait Posture: foot-strike angle cut-offs (rearfoot > 8 deg, midfoot "
                  "-1.6 to 8 deg, forefoot < -1.6 deg).",
    "almonroeder2013": "Almonroeder T et al. 2013, Ann Biomed Eng: a non-rearfoot strike raised Achilles loading rate "
                       "by 15 % and impulse per step by 11 %.",
    "jssm2025": "J Sports Sci Med 2025: Achilles and plantar-fascia loads ranked forefoot > midfoot > rearfoot strike.",
    "ridge2013": "Ridge ST et al. 2013, Med Sci Sports Exerc: a gradual 10-week move to minimalist shoes still raised "
                 "bone-marrow oedema in 10 of 19 runners.",
    "barton2016": "Barton CJ et al. 2016, Br J Sports Med: running retraining consensus; evidence for changing "
                  "foot-strike pattern is limited.",
    "willy2012": "Willy RW, Scholz JP, Davis IS 2012, Clin Biomech: 8 sessions of mirror + verbal cues ('knees apart', "
                 "'squeeze buttocks'), feedback removed over the last 4; less hip adduction and pelvic drop, less "
                 "pain, held at 3 months.",
    "bramah2018": "Bramah C et al. 2018, Am J Sports Med: contralateral pelvic drop discriminated injured from healthy "
                  "runners best (+1 deg -> odds about x1.8) (check the group means); injured runners also landed "
                  "with a straighter knee and leaned more.",
    "dingenen2018": "Dingenen B et al. 2018, Phys Ther Sport: 2D contralateral pelvic drop tracks 3D (ICC 0.90-0.99); "
                    "2D knee frontal-plane projection angle does not track 3D knee abduction.",
    "davis2020": "Davis IS et al. 2020, Curr Rev Musculoskelet Med (check): lasting gait retraining came from 8-18 "
                 "sessions over 2-6 weeks, 3-4 a week, 15 -> 30 min, continuous feedback for 4 sessions then faded.",
    "chan2018": "Chan ZYS et al. 2018, Am J Sports Med: 2 weeks of visual-feedback gait retraining cut 12-month "
                "injuries in novice runners by 62 %.",
    "willy_davis2011": "Willy RW, Davis IS 2011, J Orthop Sports Phys Ther: hip strengthening alone did not change "
                       "running mechanics (pair strength with retraining).",
    "ferber2015": "Ferber R et al. 2015, J Athl Train: for patellofemoral pain, hip-and-core and knee programmes both "
                  "worked; pain eased a week sooner with hip-and-core.",
    "silbernagel2007": "Silbernagel KG et al. 2007, Am J Sports Med: pain up to 5/10 during activity is acceptable if "
                       "it settles by the next morning and does not rise week to week.",
    "wiewelhove2019": "Wiewelhove T et al. 2019, Front Physiol: foam rolling gives a small reduction in muscle pain "
                      "(g about 0.47); no evidence for a specific dose such as 10 x 1 min.",
    "teng_powers2015": "Teng HL, Powers CM 2015, Med Sci Sports Exerc: high-lean runners 10.8 +/- 2.2 deg vs low-lean "
                       "3.6 +/- 2.8 deg; more lean shifts work from the knee to the hip.",
    "teng_powers2014": "Teng HL, Powers CM 2014, J Orthop Sports Phys Ther: a little more trunk lean lowered "
                       "patellofemoral joint stress.",
    "meardon2012": "Meardon SA et al. 2012, Sports Biomech: narrower steps raise iliotibial-band strain.",
    "brindle2014": "Brindle RA et al. 2014, Gait Posture: wider steps lower hip adduction.",
    "arellano_kram2011": "Arellano CJ, Kram R 2011, J Biomech: runners choose narrow step widths (< 15 % of leg "
                         "length).",
    "thakkar2019": "Thakkar / Fukuchi-based reference (Med Sci Sports Exerc 2019): cadence <= 166 spm linked to higher "
                   "knee forces in women; typical 161/171/183 spm at 2.5/3.5/4.5 m/s.",
    "damsted2015": "Damsted C et al. 2015, Int J Sports Phys Ther: manual 2D knee and hip angles varied 9-14 deg "
                   "between days; treat changes under about 5 deg as noise unless averaged over many strides.",
    "mo2025": "Mo S et al. 2025 (Waikato repository record): markerless foot-strike angle, near-side RMSE 2.9 deg "
              "(limits +/- 5.7 deg), far side 5.1 deg.",
    "young2023": "Young F et al. 2023, Sensors: BlazePose in running, ICC > 0.75 for temporal measures; timing error "
                 "10-14 ms on the near-side foot.",
    "clinic_method": "Clinic method (this project's clinical brief): don't stop running, find the source, one target "
                     "at "
                     "a time, run alone at your own pace (running beside someone changes mechanics), re-test before "
                     "advancing. Clinical practice, not a trial.",
    "refer_red_flags": "Standard musculoskeletal screening for serious pathology (reference section 4 'Safety'): focal "
                       "bone tenderness, night pain, swelling or neurological signs need a clinician before running "
                       "retraining continues.",
}


def cite(key: str) -> str:
    """Full reference for a source id (KeyError names the missing id)."""
    try:
        return SOURCES[key]
    except KeyError:
        raise KeyError(f"unknown source id {key!r}; add it to analyzer/plan/sources.py") from None
