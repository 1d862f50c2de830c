"""Fictional names and neutral texts of the bench data (no NIR, no health data: the D4 guard accepts them)."""

# fmt: off

LAST_NAMES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefebvre", "Faure", "André",
    "Mercier", "Blanc", "Guérin", "Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia",
    "Perrin", "Robin", "Clément", "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
    "Marchand", "Duval", "Denis", "Dumont", "Marie", "Lemaire", "Noël", "Meyer", "Dufour", "Meunier",
    "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet", "Gaillard", "Barbier", "Arnaud",
    "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal", "Caron",
    "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe",
    "Bourgeois", "Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Le Goff", "N'Diaye", "Bensaïd",
    "Haddad", "Nguyen", "Da Silva", "Kowalski", "Delattre", "Vandamme", "Desmet", "Lemaître", "Cœur", "Ménard",
)

# (prénom, civilité)
FIRST_NAMES = (
    ("Camille", "mme"), ("Léa", "mme"), ("Manon", "mme"), ("Chloé", "mme"), ("Inès", "mme"), ("Sarah", "mme"),
    ("Emma", "mme"), ("Louise", "mme"), ("Jade", "mme"), ("Zoé", "mme"), ("Nadia", "mme"), ("Fatima", "mme"),
    ("Marie", "mme"), ("Anne", "mme"), ("Sophie", "mme"), ("Julie", "mme"), ("Hélène", "mme"), ("Agnès", "mme"),
    ("Yasmine", "mme"), ("Françoise", "mme"), ("Lucas", "m"), ("Hugo", "m"), ("Louis", "m"), ("Nathan", "m"),
    ("Gabriel", "m"), ("Jules", "m"), ("Adam", "m"), ("Mohamed", "m"), ("Karim", "m"), ("Paul", "m"),
    ("Marc", "m"), ("Jean", "m"), ("Pierre", "m"), ("Michel", "m"), ("Jérôme", "m"), ("François", "m"),
    ("Théo", "m"), ("Noé", "m"), ("Raphaël", "m"), ("Sébastien", "m"),
)

JOB_TITLES = (
    "Travailleuse sociale", "Travailleur social", "Conseillère en économie sociale et familiale",
    "Assistante de service social", "Chargé d'accueil", "Médiatrice sociale", "Responsable du pôle social",
)

CITIES = (
    ("Wattrelos", "59150"), ("Roubaix", "59100"), ("Tourcoing", "59200"), ("Lille", "59000"), ("Douai", "59500"),
    ("Amiens", "80000"), ("Rouen", "76000"), ("Lyon", "69001"), ("Marseille", "13001"), ("Toulouse", "31000"),
    ("Nantes", "44000"), ("Rennes", "35000"), ("Bordeaux", "33000"), ("Strasbourg", "67000"), ("Metz", "57000"),
    ("Dijon", "21000"), ("Ajaccio", "20000"), ("Saint-Denis", "97400"), ("Limoges", "87000"), ("Brest", "29200"),
)

PARTNER_KINDS = (  # (kind, label for the name, weight)
    ("ccas", "CCAS", 35),
    ("association", "Association Solidarité", 30),
    ("mandataire", "Service mandataire", 10),
    ("mission_locale", "Mission locale", 10),
    ("ase", "Aide sociale à l'enfance", 5),
    ("pass", "PASS du centre hospitalier", 5),
    ("autre", "Espace de vie sociale", 5),
)

FIRST_MESSAGES = (
    "La personne n'a pas reçu de réponse à son courrier du mois dernier : où en est son dossier ?",
    "Demande déposée avec les justificatifs de ressources des trois derniers mois.",
    "La personne a déménagé et souhaite mettre à jour son adresse auprès de la caisse.",
    "Merci de nous indiquer les pièces manquantes pour compléter le dossier.",
    "La personne ne parvient pas à se connecter à son compte en ligne.",
    "Attestation demandée pour une démarche de logement.",
    "La personne souhaite un rendez-vous pour faire le point sur ses droits.",
    "Situation signalée après un entretien à l'accueil de la structure.",
)

ANSWERS = (
    "Le dossier est complet et a été traité.",
    "Merci de nous transmettre un justificatif de domicile récent.",
    "La demande est transmise au service concerné.",
    "Le document a été envoyé à l'adresse connue de la personne.",
    "Un conseiller prendra contact avec la personne.",
)

INTERNAL_NOTES = ("Vérifier l'adresse avant l'envoi.", "Dossier à revoir avec le responsable.")

RDV_REASONS = (
    "Faire le point sur les droits",
    "Ouverture de droits",
    "Aide pour compléter un formulaire",
    "Changement de situation",
)
# fmt: on
